// Package config reads the server's settings from the environment, in one
// place, with the defaults of the runtime contract.
package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

type Config struct {
	DatabaseURL string
	// DatabaseListenURL is the LISTEN connection's route to PostgreSQL
	// (default DatabaseURL): direct, when DatabaseURL goes through a
	// transaction pooler, which cannot keep a LISTEN.
	DatabaseListenURL string
	// DBPoolMode is "session" (PostgreSQL itself, or a session pooler) or
	// "transaction" (DatabaseURL is PgBouncer in pool_mode = transaction).
	DBPoolMode    string
	ListenAddr    string
	PublicBaseURL string
	// StaffAppURL is the origin of the staff frontend, where invite links
	// point (STAFF_APP_URL/invite/<token>).
	StaffAppURL string
	MediaDir    string
	// SecretKey signs short-lived media URLs. Empty: generated once and
	// kept in the database.
	SecretKey  string
	Env        string
	RateLimits bool
	// Tracing: spans are exported over OTLP, because an endpoint is set
	// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
	// and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none
	// turns them off. The exporter reads the other OTEL_* variables.
	Tracing bool
	// LogFormat is "text" (lines for a person) or "json" (for a log
	// pipeline): text in development, json in production by default.
	LogFormat string
	// OpenCounting counts opens of tracking links (OPEN_COUNTING).
	OpenCounting bool
	// BcryptCost is the cost of new password hashes.
	BcryptCost int

	// MediaStore, when set (s3://bucket/prefix), keeps media in an
	// S3-compatible bucket instead of MediaDir; MediaS3Endpoint overrides
	// the bucket's endpoint (MinIO and the like, path-style).
	MediaStore      string
	MediaS3Endpoint string
	// SpoolDir is where upload bodies too large for memory are spooled,
	// one directory per process; empty is importops-spool in the
	// system's temporary directory.
	SpoolDir string

	DBMaxOpenConns    int
	DBMaxIdleConns    int
	DBConnMaxLifetime time.Duration
	ShutdownTimeout   time.Duration
	// PublicCacheSize is how many tracking links each replica keeps in
	// memory (LRU); 0 turns the cache off.
	PublicCacheSize int

	// TrustedProxies are the peers whose X-Forwarded-For names the client
	// (for rate limits and logs); anyone else's is ignored.
	TrustedProxies []netip.Prefix
	// Each database session's bounds: a statement, a wait for a lock, an
	// idle open transaction, and establishing a connection.
	DBStatementTimeout       time.Duration
	DBLockTimeout            time.Duration
	DBIdleInTxSessionTimeout time.Duration
	DBConnectTimeout         time.Duration
	// ShutdownDrainDelay is how long /readyz answers 503 on SIGTERM, while
	// requests are still accepted, before the listener closes.
	ShutdownDrainDelay time.Duration
}

// TransactionPooled tells that DatabaseURL is a pooler in transaction mode.
func (c Config) TransactionPooled() bool { return c.DBPoolMode == "transaction" }

// Production turns off the playground and anonymous introspection.
func (c Config) Production() bool { return c.Env == "production" }

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:   get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/importops?sslmode=disable"),
		ListenAddr:    get("LISTEN_ADDR", ":8080"),
		PublicBaseURL: strings.TrimRight(get("PUBLIC_BASE_URL", "http://localhost:8080"), "/"),
		MediaDir:      get("MEDIA_DIR", "./data/media"),
		SecretKey:     getenv("SECRET_KEY"),
		Env:           get("APP_ENV", "development"),
	}
	c.DatabaseListenURL = get("DATABASE_LISTEN_URL", c.DatabaseURL)
	var errs []string
	c.StaffAppURL = strings.TrimRight(get("STAFF_APP_URL", c.PublicBaseURL), "/")
	if u, err := url.Parse(c.StaffAppURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Sprintf("STAFF_APP_URL must be an http(s) origin such as https://app.import-ops.com, not %q", c.StaffAppURL))
	}
	c.MediaStore = get("MEDIA_STORE", "")
	c.MediaS3Endpoint = get("MEDIA_S3_ENDPOINT", "")
	c.SpoolDir = get("SPOOL_DIR", "")
	if u, err := url.Parse(c.MediaStore); c.MediaStore != "" && (err != nil || u.Scheme != "s3" || u.Host == "") {
		errs = append(errs, fmt.Sprintf("MEDIA_STORE must be empty (files in MEDIA_DIR) or s3://bucket/prefix, not %q", c.MediaStore))
	}
	if u, err := url.Parse(c.MediaS3Endpoint); c.MediaS3Endpoint != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Sprintf("MEDIA_S3_ENDPOINT must be an http(s) URL such as http://minio:9000, not %q", c.MediaS3Endpoint))
	}
	switch v := get("RATE_LIMITS", "on"); v {
	case "on":
		c.RateLimits = true
	case "off":
		c.RateLimits = false
	default:
		errs = append(errs, fmt.Sprintf("RATE_LIMITS must be on or off, not %q", v))
	}
	switch v := get("OPEN_COUNTING", "on"); v {
	case "on":
		c.OpenCounting = true
	case "off":
		c.OpenCounting = false
	default:
		errs = append(errs, fmt.Sprintf("OPEN_COUNTING must be on or off, not %q", v))
	}
	if c.Env != "development" && c.Env != "production" {
		errs = append(errs, fmt.Sprintf("APP_ENV must be development or production, not %q", c.Env))
	}
	if c.DBPoolMode = get("DB_POOL_MODE", "session"); c.DBPoolMode != "session" && c.DBPoolMode != "transaction" {
		errs = append(errs, fmt.Sprintf("DB_POOL_MODE must be session or transaction, not %q", c.DBPoolMode))
	}
	c.Tracing = (get("OTEL_EXPORTER_OTLP_ENDPOINT", "") != "" || get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") != "") &&
		get("OTEL_SDK_DISABLED", "false") != "true" && get("OTEL_TRACES_EXPORTER", "otlp") != "none"
	if p := get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")); c.Tracing && p != "http/protobuf" {
		errs = append(errs, fmt.Sprintf("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf (the exporter built in), not %q", p))
	}
	c.LogFormat = "text"
	if c.Production() {
		c.LogFormat = "json"
	}
	if v := get("LOG_FORMAT", c.LogFormat); v == "text" || v == "json" {
		c.LogFormat = v
	} else {
		errs = append(errs, fmt.Sprintf("LOG_FORMAT must be text or json, not %q", v))
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Sprintf("PUBLIC_BASE_URL must be an http(s) origin such as https://import-ops.com, not %q", c.PublicBaseURL))
	}
	intVar := func(key string, def int) int {
		v := get(key, strconv.Itoa(def))
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Sprintf("%s must be a whole number, not %q", key, v))
		}
		return n
	}
	durVar := func(key string, def time.Duration) time.Duration {
		v := get(key, def.String())
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Sprintf("%s must be a duration such as 30s, not %q", key, v))
		}
		return d
	}
	if c.BcryptCost = intVar("BCRYPT_COST", bcrypt.DefaultCost); c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost {
		errs = append(errs, fmt.Sprintf("BCRYPT_COST must be %d to %d, not %d", bcrypt.MinCost, bcrypt.MaxCost, c.BcryptCost))
	}
	c.DBMaxOpenConns = intVar("DB_MAX_OPEN_CONNS", 20)
	// As many idle as open: a pool that keeps fewer closes and reopens
	// connections under a steady load (each a new backend).
	c.DBMaxIdleConns = intVar("DB_MAX_IDLE_CONNS", c.DBMaxOpenConns)
	c.DBConnMaxLifetime = durVar("DB_CONN_MAX_LIFETIME", 30*time.Minute)
	c.ShutdownTimeout = durVar("SHUTDOWN_TIMEOUT", 20*time.Second)
	c.PublicCacheSize = intVar("PUBLIC_CACHE_SIZE", 10000)
	c.DBStatementTimeout = durVar("DB_STATEMENT_TIMEOUT", 5*time.Second)
	c.DBLockTimeout = durVar("DB_LOCK_TIMEOUT", 3*time.Second)
	c.DBIdleInTxSessionTimeout = durVar("DB_IDLE_IN_TRANSACTION_TIMEOUT", 10*time.Second)
	c.DBConnectTimeout = durVar("DB_CONNECT_TIMEOUT", 5*time.Second)
	drain := time.Duration(0) // a developer's Ctrl+C stops at once
	if c.Production() {
		drain = 5 * time.Second // time for a load balancer to see /readyz fail
	}
	c.ShutdownDrainDelay = durVar("SHUTDOWN_DRAIN_DELAY", drain)
	if v := get("TRUSTED_PROXIES", ""); v != "" {
		for _, item := range strings.Split(v, ",") {
			p, err := parsePrefix(strings.TrimSpace(item))
			if err != nil {
				errs = append(errs, fmt.Sprintf("TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDR ranges, not %q", item))
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// parsePrefix reads an IP address (a one-address range) or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
