// Command truce runs a ceasefire's joint monitoring and verification
// mechanism. See truce help.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/truce-mvm/truce/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
