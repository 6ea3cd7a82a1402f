// Command sites makes OCALLs from two known call sites at a known ratio:
// siteA makes 3 getppid for every 1 of siteB (TestStacksTwoSites).
package main

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

//go:noinline
func siteA() { unix.Getppid() }

//go:noinline
func siteB() { unix.Getppid() }

func main() {
	n := 1000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	for i := 0; i < n; i++ {
		siteA()
		siteA()
		siteA()
		siteB()
	}
	fmt.Println("done", n)
}
