package loadtest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// NewClient is an HTTP client for attacks on one target: keep-alive, up to
// conns connections, and no HTTP/2 (vegeta's defaults, made here so that
// the connections can be closed or reused).
func NewClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, DialContext: d.DialContext,
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second,
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func progress(w io.Writer, sent *atomic.Int64, shape *Shape, began time.Time) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(began)
				fmt.Fprintf(w, "attack: %3.0fs  %d answered, %.0f/s asked now\n", el.Seconds(), sent.Load(), shape.Rate(el))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// NoopHandler answers every request with a small JSON body after reading
// the request's: the baseline the API is measured against, under the same
// attacker in the same run.
func NoopHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20))
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "16")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// ServeNoop serves NoopHandler on a loopback port until stop is called.
func ServeNoop() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{Handler: NoopHandler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { hs.Close() }, nil
}
