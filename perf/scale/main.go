// Command scale measures whether the staff list costs the same for a large
// organization as for a small one, through the GraphQL API of a running
// server (scripts/load-scale starts one and runs this twice):
//
//	scale -seed ...   creates each organization's vehicles (tokens from the
//	                  flags), each createVehicle then createTrackingLink, from
//	                  -clients concurrent clients, and prints the rate;
//	scale ...         finds, by walking each list, the cursor of a page near
//	                  its end and a vehicle's VIN, then times -calls calls of
//	                  each list call, the organizations taking turns, and
//	                  prints the medians and their ratios.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

type org struct {
	name, token string
	n           int
	vin         string // of a vehicle of the organization
	nearEnd     string // the cursor 60 vehicles before the end of the list
}

func run() error {
	api := flag.String("api", "http://127.0.0.1:18090/graphql", "the GraphQL endpoint")
	bigToken := flag.String("big-token", "", "bearer token of the large organization")
	smallToken := flag.String("small-token", "", "bearer token of the small organization")
	bigN := flag.Int("big", 20000, "vehicles of the large organization")
	smallN := flag.Int("small", 60, "vehicles of the small organization")
	clients := flag.Int("clients", 8, "concurrent clients while seeding")
	calls := flag.Int("calls", 51, "timed calls of each list call, per organization")
	seedOnly := flag.Bool("seed", false, "seed the organizations, print the rate and stop")
	flag.Parse()
	if *bigToken == "" || *smallToken == "" {
		return errors.New("-big-token and -small-token are required")
	}
	c := &client{api: *api, http: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: *clients * 2},
		Timeout:   30 * time.Second,
	}}
	big := &org{name: "large", token: *bigToken, n: *bigN}
	small := &org{name: "small", token: *smallToken, n: *smallN}

	if *seedOnly {
		for _, o := range []*org{small, big} {
			cpu := cpuTime()
			start := time.Now()
			muts, err := seed(c, o, *clients)
			if err != nil {
				return fmt.Errorf("seed the %s organization: %w", o.name, err)
			}
			el := time.Since(start)
			fmt.Printf("seeding %-5s %6d vehicles, %6d mutations in %6.1f s: %6.0f mutations/s (%d clients; their CPU %.2f ms per mutation)\n",
				o.name, o.n, muts, el.Seconds(), float64(muts)/el.Seconds(), *clients, ms(cpuTime()-cpu)/float64(muts))
		}
		return nil
	}
	for _, o := range []*org{small, big} {
		if err := survey(c, o); err != nil {
			return fmt.Errorf("walk the %s organization's list: %w", o.name, err)
		}
	}

	type call struct {
		name  string
		vars  func(o *org) map[string]any
		goal  float64 // 0: shown for comparison, no goal
		check func(o *org, out listAnswer) error
		query string // listQuery unless set
	}
	someToyota := func(o *org, out listAnswer) error {
		if len(out.Vehicles.Edges) == 0 {
			return errors.New("no Toyota found")
		}
		return nil
	}
	fifty := func(o *org, out listAnswer) error {
		if len(out.Vehicles.Edges) != 50 {
			return fmt.Errorf("%d edges, want 50", len(out.Vehicles.Edges))
		}
		return nil
	}
	calls4 := []call{
		{"first page", func(*org) map[string]any { return map[string]any{} }, 1.3, fifty, ""},
		{"page near the end (cursor)", func(o *org) map[string]any { return map[string]any{"after": o.nearEnd} }, 1.3, fifty, ""},
		{"search: one exact VIN", func(o *org) map[string]any { return map[string]any{"search": o.vin} }, 1.3,
			func(o *org, out listAnswer) error {
				if len(out.Vehicles.Edges) != 1 || out.Vehicles.TotalCount != 1 {
					return fmt.Errorf("%d edges, totalCount %d, want the one vehicle", len(out.Vehicles.Edges), out.Vehicles.TotalCount)
				}
				return nil
			}, ""},
		{`search: "toyo"`, func(*org) map[string]any { return map[string]any{"search": "toyo"} }, 2, someToyota, ""},
		// What counting costs: the same calls without totalCount.
		{"first page, no totalCount", func(*org) map[string]any { return map[string]any{} }, 0, fifty, listQueryNoCount},
		{`"toyo", no totalCount`, func(*org) map[string]any { return map[string]any{"search": "toyo"} }, 0, someToyota, listQueryNoCount},
	}
	fmt.Printf("\nvehicles(first: 50) with every contract field, median of %d calls (the organizations take turns, in a random order each round)\n", *calls)
	fmt.Printf("%-28s %12s %16s %8s %6s  %s\n", "call", fmt.Sprintf("%d vehicles", small.n), fmt.Sprintf("%d vehicles", big.n), "ratio", "goal", "edges")
	for _, k := range calls4 {
		times, edges := map[*org][]time.Duration{}, map[*org]int{}
		query := listQuery
		if k.query != "" {
			query = k.query
		}
		for i := -3; i < *calls; i++ { // three warm-up calls each
			// Which organization goes first is drawn for each round: the
			// server collects its garbage about every second list call, and
			// a strict alternation had every collection of a run fall on the
			// same organization's calls (runs then split into two kinds,
			// with ratios 20% apart).
			order := []*org{small, big}
			if rand.IntN(2) == 1 {
				order[0], order[1] = big, small
			}
			for _, o := range order {
				start := time.Now()
				var out listAnswer
				if err := c.do(o.token, query, k.vars(o), &out); err != nil {
					return fmt.Errorf("%s, %s organization: %w", k.name, o.name, err)
				}
				d := time.Since(start)
				if err := k.check(o, out); err != nil {
					return fmt.Errorf("%s, %s organization: %w", k.name, o.name, err)
				}
				if i >= 0 {
					times[o] = append(times[o], d)
				}
				edges[o] = len(out.Vehicles.Edges)
			}
		}
		s, b := median(times[small]), median(times[big])
		ratio := float64(b) / float64(s)
		goal := "     -   "
		if k.goal > 0 {
			verdict := "ok"
			if ratio > k.goal {
				verdict = "MISSED"
			}
			goal = fmt.Sprintf("%5.1fx %-3s", k.goal, verdict)
		}
		fmt.Printf("%-28s %9.1f ms %13.1f ms %7.2fx %s  %d / %d\n", k.name, ms(s), ms(b), ratio, goal, edges[small], edges[big])
	}
	return nil
}

// listQuery is vehicles(first: 50) with every field of the contract, as a
// staff list would ask for them.
const listQuery = `query ($after: String, $search: String) {
  vehicles(first: 50, after: $after, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id year make model title vin stockNumber stage estimatedArrival createdAt
      customer { id name email phone }
      heroPhoto { id url caption width height createdAt }
      photos { id url caption width height createdAt }
      notes { id body scope createdAt updatedAt author { id email name role } }
      costs { id category description amount { amount currency } }
      agreedSalePrice { amount currency }
      payments { id amount { amount currency } receivedAt reference }
      trackingLink {
        id slug url showPhoto showEstimatedArrival showProgress showCustomerNotes
        expiresAt createdAt updatedAt
        photos { id url caption width height createdAt }
        createdBy { id email name role }
      }
    } }
  }
}`

// listQueryNoCount is listQuery without totalCount.
var listQueryNoCount = strings.Replace(listQuery, "totalCount\n", "", 1)

type listAnswer struct {
	Vehicles struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
		Edges []struct {
			Cursor string
			Node   struct{ VIN *string }
		}
	}
}

var makes = []struct{ make, model string }{
	{"Toyota", "Land Cruiser"}, {"Nissan", "Skyline"}, {"Mazda", "MX-5"}, {"Honda", "Fit"},
	{"Subaru", "Legacy"}, {"Mitsubishi", "Pajero"}, {"Suzuki", "Jimny"}, {"Lexus", "RX 450h"},
}

const vinAlphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

// seed creates o's vehicles, each with a tracking link, and a customer for
// every tenth; it returns the mutations made.
func seed(c *client, o *org, clients int) (int, error) {
	var (
		next  atomic.Int64
		muts  atomic.Int64
		wg    sync.WaitGroup
		first error
		once  sync.Once
	)
	for range clients {
		wg.Go(func() {
			var customer string
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				if err := seedOne(c, o, i, &customer, &muts); err != nil {
					once.Do(func() { first = err })
					next.Store(int64(o.n))
					return
				}
			}
		})
	}
	wg.Wait()
	return int(muts.Load()), first
}

func seedOne(c *client, o *org, i int, customer *string, muts *atomic.Int64) error {
	if i%10 == 0 {
		var out struct{ CreateCustomer struct{ ID string } }
		if err := c.do(o.token, `mutation ($in: CustomerInput!) { createCustomer(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"name": fmt.Sprintf("Customer %d of %s", i, o.name)}}, &out); err != nil {
			return err
		}
		muts.Add(1)
		*customer = out.CreateCustomer.ID
	}
	vin := make([]byte, 17)
	for j := range vin {
		vin[j] = vinAlphabet[rand.IntN(len(vinAlphabet))]
	}
	m := makes[i%len(makes)]
	in := map[string]any{
		"year": 1995 + i%30, "make": m.make, "model": m.model, "vin": string(vin),
		"stockNumber": fmt.Sprintf("SC-%06d", i), "stage": "IN_TRANSIT", "estimatedArrival": "2030-03-01",
		"agreedSalePrice": map[string]any{"amount": "45000.00", "currency": "NZD"},
	}
	if *customer != "" {
		in["customerId"] = *customer
	}
	var v struct{ CreateVehicle struct{ ID string } }
	if err := c.do(o.token, `mutation ($in: CreateVehicleInput!) { createVehicle(input: $in) { id } }`,
		map[string]any{"in": in}, &v); err != nil {
		return err
	}
	var l struct{ CreateTrackingLink struct{ URL string } }
	if err := c.do(o.token, `mutation ($v: ID!) { createTrackingLink(vehicleId: $v) { url } }`,
		map[string]any{"v": v.CreateVehicle.ID}, &l); err != nil {
		return err
	}
	muts.Add(2)
	return nil
}

// survey walks o's whole list, keeping the cursor 60 vehicles before its
// end and a VIN.
func survey(c *client, o *org) error {
	var cursors []string // after each vehicle
	var after any
	for {
		var out struct {
			Vehicles struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Cursor string
					Node   struct{ VIN *string }
				}
			}
		}
		if err := c.do(o.token, `query ($after: String) { vehicles(first: 100, after: $after) {
			pageInfo { hasNextPage endCursor } edges { cursor node { vin } } } }`, map[string]any{"after": after}, &out); err != nil {
			return err
		}
		for _, e := range out.Vehicles.Edges {
			cursors = append(cursors, e.Cursor)
			if o.vin == "" && len(cursors) > o.n/2 && e.Node.VIN != nil {
				o.vin = *e.Node.VIN
			}
		}
		if !out.Vehicles.PageInfo.HasNextPage {
			break
		}
		after = out.Vehicles.PageInfo.EndCursor
	}
	if len(cursors) < 52 || o.vin == "" {
		return fmt.Errorf("%d vehicles listed, want at least 52 with a VIN", len(cursors))
	}
	o.nearEnd = cursors[len(cursors)-52] // 51 follow it: a full page, and more
	return nil
}

type client struct {
	api  string
	http *http.Client
}

// do posts one GraphQL operation and decodes its data into out; any error
// in the answer fails it.
func (c *client) do(token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, c.api, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var ans struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &ans); err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", res.StatusCode, raw)
	}
	if len(ans.Errors) > 0 {
		return fmt.Errorf("GraphQL error: %s", ans.Errors[0].Message)
	}
	return json.Unmarshal(ans.Data, out)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
