// Command importops is the tracking-link server and its admin tool; see
// README.md. The subcommands live in package cli; main only wires the
// process to it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"importops/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	os.Exit(cli.Report(os.Stderr, err))
}

// run executes the command line: 0 when it succeeds, 2 for bad flags or
// arguments, 1 for anything else (see cli.ExitCode).
func run(ctx context.Context) error {
	closeSpool, err := cli.OpenSpool(os.Getenv)
	if err != nil {
		return err
	}
	defer closeSpool()
	return cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
}
