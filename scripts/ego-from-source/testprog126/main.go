package main

import (
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

func pairs(n int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for i := range n {
			if !yield(i, i*i) {
				return
			}
		}
	}
}

//go:linkname edgLibcSyscall _edg_libc_syscall
var edgLibcSyscall unsafe.Pointer

func main() {
	fmt.Println("runtime syscalls via libc:", edgLibcSyscall != nil, "OE_IS_ENCLAVE="+os.Getenv("OE_IS_ENCLAVE"))
	fmt.Println("go version:", runtime.Version(), "GOMAXPROCS", runtime.GOMAXPROCS(0), "args", os.Args[1:])
	sum := 0
	for i, sq := range pairs(10) { // range-over-func (Go 1.23+)
		sum += i + sq
	}
	fmt.Println("range-over-func sum:", sum)

	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for i := range 50 {
		wg.Go(func() { // sync.WaitGroup.Go (Go 1.25+)
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			mu.Lock()
			total += i
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Println("goroutines total:", total)

	t0 := time.Now()
	time.Sleep(50 * time.Millisecond)
	fmt.Println("slept ms:", time.Since(t0).Milliseconds())

	path := "/etc/hostname"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	b, err := os.ReadFile(path)
	fmt.Printf("ReadFile(%s): %d bytes, err=%v\n", path, len(b), err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen error:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) { // Go 1.22 pattern
		fmt.Fprintf(w, "hello %s from %s", r.PathValue("name"), runtime.Version())
	})
	go http.Serve(ln, mux)
	for i := range 3 {
		resp, err := http.Get("http://" + ln.Addr().String() + fmt.Sprintf("/hello/enclave%d", i))
		if err != nil {
			fmt.Println("http error:", err)
			os.Exit(1)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println("http:", resp.StatusCode, string(body))
	}
	addrs, err := net.LookupHost("localhost")
	fmt.Println("LookupHost(localhost):", addrs, err)
	cname, err := net.LookupCNAME("localhost")
	fmt.Println("LookupCNAME(localhost):", cname, err)
	fmt.Println("exec.Command(true).Run():", exec.Command("true").Run())
	fmt.Println("ALL OK")
}
