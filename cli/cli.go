// Package cli is the importops binary: it parses the command line, wires
// the server's parts together and runs one subcommand. package main only
// hands it the process's arguments, environment and standard streams.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"importops/config"
)

// Exit statuses of the binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

const usage = `usage:
  importops [serve]          apply pending migrations, then serve HTTP until SIGINT/SIGTERM
  importops migrate          apply pending migrations and exit
  importops demo             create a demo organization and vehicle, print how to use them, then serve
  importops admin create-org --name NAME --country CC --owner-email EMAIL --owner-password PW [--owner-name NAME]
  importops admin set-subscription --org ORG_ID --status TRIALING|ACTIVE|PAST_DUE|LOCKED|CANCELED
  importops admin invite --org ORG_ID --email EMAIL --role OWNER|ADMIN|STAFF

Configuration is read from the environment: DATABASE_URL, LISTEN_ADDR,
PUBLIC_BASE_URL, STAFF_APP_URL, MEDIA_DIR, SECRET_KEY, APP_ENV, RATE_LIMITS, TRUSTED_PROXIES,
DB_MAX_OPEN_CONNS, DB_MAX_IDLE_CONNS, DB_CONN_MAX_LIFETIME, DB_STATEMENT_TIMEOUT,
DB_LOCK_TIMEOUT, DB_IDLE_IN_TRANSACTION_TIMEOUT, DB_CONNECT_TIMEOUT,
SHUTDOWN_TIMEOUT, SHUTDOWN_DRAIN_DELAY, PUBLIC_CACHE_SIZE, BCRYPT_COST, SPOOL_DIR.
`

// ExitError is an error that decides the process's exit status.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErrorf is a bad flag or argument: exit status 2, and by
// construction it is returned before anything touches the database.
func usageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// ExitCode is the exit status for the error Run returned.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailure
}

// Report writes err as one line on w (nothing for nil) and returns the
// exit status for it.
func Report(w io.Writer, err error) int {
	if err == nil {
		return ExitOK
	}
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
	fmt.Fprintln(w, "importops: "+msg)
	return ExitCode(err)
}

// Run executes the command line args (without the program name). env reads
// the environment (os.Getenv in main); normal output goes to stdout, logs
// to stderr. It returns when the command is done or, for the serving
// commands, after ctx is cancelled and the server has shut down.
func Run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args
	if len(args) > 0 {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		if err := parseFlags(flag.NewFlagSet("serve", flag.ContinueOnError), rest); err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return withBufferedLog(stderr, func(log *slog.Logger) error { return serve(ctx, cfg, log) })
		})
	case "demo":
		if err := parseFlags(flag.NewFlagSet("demo", flag.ContinueOnError), rest); err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return withBufferedLog(stderr, func(log *slog.Logger) error { return demo(ctx, cfg, log, stdout) })
		})
	case "migrate":
		if err := parseFlags(flag.NewFlagSet("migrate", flag.ContinueOnError), rest); err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return migrate(ctx, cfg, stdout)
		})
	case "admin":
		return admin(ctx, rest, env, stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		if strings.HasPrefix(cmd, "-") {
			return usageErrorf("unknown flag %s (run importops help)", cmd)
		}
		return usageErrorf("unknown command %q: expected serve, migrate, demo or admin (run importops help)", cmd)
	}
}

func admin(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("admin: missing subcommand: expected create-org, set-subscription or invite")
	}
	switch args[0] {
	case "create-org":
		in, err := parseCreateOrg(args[1:])
		if err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return createOrg(ctx, cfg, in, stdout)
		})
	case "set-subscription":
		in, err := parseSetSubscription(args[1:])
		if err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return setSubscription(ctx, cfg, in, stdout)
		})
	case "invite":
		in, err := parseInvite(args[1:])
		if err != nil {
			return helpOr(err, stdout)
		}
		return withConfig(env, func(cfg config.Config) error {
			return invite(ctx, cfg, in, stdout)
		})
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageErrorf("admin: unknown subcommand %q: expected create-org, set-subscription or invite", args[0])
	}
}

// parseFlags parses args with fs, printing nothing: the one-line error is
// the caller's to report. Positional arguments are refused.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErrorf("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// helpOr turns -h into the usage text on stdout and a clean exit.
func helpOr(err error, stdout io.Writer) error {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	return err
}

func withConfig(env func(string) string, fn func(config.Config) error) error {
	cfg, err := config.FromEnv(env)
	if err != nil {
		return err
	}
	return fn(cfg)
}
