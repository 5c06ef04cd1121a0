// Command truce runs a ceasefire's joint monitoring and verification
// mechanism. See truce help.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/truce-mvm/truce/internal/cli"
)

func main() {
	// The server's live heap is small and the machine's memory is not: let
	// the heap grow further between collections, which costs less CPU per
	// entry. GOGC, when set, still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
