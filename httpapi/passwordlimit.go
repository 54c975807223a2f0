package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"importops/domain"
)

// Sign-in attempts (login, and every other field that checks a password
// or a secret token) are budgeted three ways:
//   - per client address, whatever the accounts (loginIPBudget):
//     credential stuffing;
//   - per account, shared by every address that has never signed in to it
//     (loginAccountBudget): guessing one account from many addresses;
//   - per account and address, for an address that has signed in to the
//     account before (loginKnownBudget): its own budget, so strangers
//     spending the shared one cannot lock the owner out.
var loginKnownBudget = budget{name: "login_known_address", every: time.Minute, burst: 10}

// signInOrigins remembers which addresses have signed in to which
// accounts, as keyed hashes (HMAC-SHA256 under a random per-process key):
// neither the address nor the account is kept in the clear, and the
// hashes mean nothing outside this process. A replica or a restart that
// has not seen the owner sign in treats them as a stranger until they do.
type signInOrigins struct {
	key  []byte
	mu   sync.Mutex
	seen *simplelru.LRU[origin, struct{}]
}

// origin identifies one account at one client address.
type origin [sha256.Size]byte

func newSignInOrigins(size int) *signInOrigins {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	seen, err := simplelru.NewLRU[origin, struct{}](size, nil)
	if err != nil {
		panic(err) // only for size <= 0
	}
	return &signInOrigins{key: key, seen: seen}
}

func (o *signInOrigins) of(account string, client netip.Addr) origin {
	m := hmac.New(sha256.New, o.key)
	m.Write([]byte(account))
	m.Write([]byte{0})
	b, _ := client.MarshalBinary()
	m.Write(b)
	var id origin
	m.Sum(id[:0])
	return id
}

func (o *signInOrigins) known(id origin) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.seen.Get(id)
	return ok
}

func (o *signInOrigins) remember(id origin) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen.Add(id, struct{}{})
}

// loginAccountKey is the budget key of the account a login names: the
// email as login folds it.
func loginAccountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// limitSignIn runs attempt, which proves a secret of account (login, and
// every other field that checks a password or a secret token; account is
// the key its budget goes by), within the sign-in budgets. The caller is
// refused before attempt runs when a budget is spent; an attempt refused
// (UNAUTHENTICATED, or BAD_USER_INPUT for a bad secret) spends a unit of
// each, and one that succeeds makes the client's address known for the
// account.
func (h *handlers) limitSignIn(ctx context.Context, account string, attempt graphql.Resolver) (any, error) {
	if h.limits == nil {
		return attempt(ctx)
	}
	if len(account) > 320 {
		account = account[:320]
	}
	client := limitKey(requestInfo(ctx).client)
	endIP, wait, ok := h.limits.loginIP.begin(client)
	if !ok {
		return nil, h.rateLimited(ctx, loginIPBudget.name, wait)
	}
	id := h.limits.origins.of(account, client)
	var endAccount func(failed bool)
	if h.limits.origins.known(id) {
		endAccount, wait, ok = h.limits.loginKnown.begin(id)
		if !ok {
			endIP(true) // trying a locked account is a failed attempt too
			return nil, h.rateLimited(ctx, loginKnownBudget.name, wait)
		}
	} else {
		endAccount, wait, ok = h.limits.loginAccount.begin(account)
		if !ok {
			endIP(true)
			return nil, h.rateLimited(ctx, loginAccountBudget.name, wait)
		}
	}
	res, err := attempt(ctx)
	failed := domain.IsCode(err, domain.Unauthenticated) || domain.IsCode(err, domain.BadInput)
	endAccount(failed)
	endIP(failed)
	if err == nil {
		h.limits.origins.remember(id)
	}
	return res, err
}
