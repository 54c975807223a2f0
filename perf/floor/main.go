// Command floor is scripts/load's floor: a bare net/http handler on the
// server's own http.Server (httpserver, the same limits) that answers
// every request with one fixed response — the headers and body the real
// server sent for a warm request, captured by curl. What the real server
// reaches against it is what its own code costs on top of the standard
// library's HTTP.
//
//	floor ADDR HEADERS-FILE BODY-FILE
//
// HEADERS-FILE is curl's --dump-header output; the status line, Date,
// Content-Length and Transfer-Encoding in it are the server's to write.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"strconv"

	"importops/httpserver"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: floor ADDR HEADERS-FILE BODY-FILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[2])
	check(err)
	body, err := os.ReadFile(os.Args[3])
	check(err)
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	_, err = tp.ReadLine() // the status line
	check(err)
	mime, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		check(err)
	}
	header := http.Header(mime)
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding"} {
		header.Del(k)
	}
	header.Set("Content-Length", strconv.Itoa(len(body)))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		out := w.Header()
		for k, v := range header {
			out[k] = v
		}
		w.Write(body)
	})
	srv := httpserver.New(h, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	srv.Addr = os.Args[1]
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
