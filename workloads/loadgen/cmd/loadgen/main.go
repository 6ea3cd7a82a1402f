// Command loadgen applies the harness's HTTP load (package workloads/loadgen) to
// a server on a loopback address and prints requests/s and latency
// quantiles, so that scripts/peers-workloads.sh can compare it with wrk
// against the same server and the same connections.
//
//	loadgen -addr 127.0.0.1:41234 -path /payload -c 8 -d 3s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/enclavebench/enclavebench/workloads/loadgen"
)

func main() {
	var (
		addr   = flag.String("addr", "", "server address, 127.0.0.1:PORT")
		path   = flag.String("path", "/payload", "request target")
		conns  = flag.Int("c", 8, "keep-alive connections")
		dur    = flag.Duration("d", 3*time.Second, "duration of the measured run")
		warmup = flag.Duration("warmup", 500*time.Millisecond, "unmeasured load before the run")
	)
	flag.Parse()
	if err := run(*addr, *path, *conns, *dur, *warmup); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(addr, path string, conns int, d, warmup time.Duration) error {
	ctx := context.Background()
	g, err := loadgen.Dial(ctx, loadgen.Options{Addr: addr, Path: path, Conns: conns})
	if err != nil {
		return err
	}
	defer g.Close()
	if warmup > 0 {
		if _, err := g.Run(ctx, warmup); err != nil {
			return err
		}
	}
	r, err := g.Run(ctx, d)
	if err != nil {
		return err
	}
	fmt.Printf("requests %d elapsed %v req/s %.1f p50-us %.1f p99-us %.1f\n", r.Requests, r.Elapsed,
		r.RequestsPerSec(), r.Latency.Quantile(0.5)/1e3, r.Latency.Quantile(0.99)/1e3)
	return nil
}
