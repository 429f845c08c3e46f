package loadtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// executor runs a template's payments under vegeta's pacing: a payment is
// one or more requests in order (quote then pay, pay then poll), so it
// cannot be one vegeta Target. The loop is vegeta's Attacker.Attack (a
// pacer, ticks to a pool of workers that grows up to MaxWorkers) with a
// payment per tick; every request becomes a vegeta.Result, so results.bin
// stays readable by the vegeta CLI.
type executor struct {
	tpl     *Template
	forms   []Form
	stream  *Stream
	client  *http.Client
	name    string
	workers uint64
	maxWork uint64
	track   *tracker // nil: no end-state check

	began  time.Time
	seqmu  sync.Mutex
	seq    uint64
	stopch chan struct{}
	once   sync.Once
}

// maxStepBody bounds how much of an answer is read for later steps and
// JSONPaths; results.bin keeps the first resultBody bytes, as the
// built-in path (vegeta.MaxBody) does.
const (
	maxStepBody = 1 << 20
	resultBody  = 1024
)

func (e *executor) stop() { e.once.Do(func() { close(e.stopch) }) }

func (e *executor) stopped() bool {
	select {
	case <-e.stopch:
		return true
	default:
		return false
	}
}

// attack paces payments by p for du; results close when every payment
// has finished.
func (e *executor) attack(p vegeta.Pacer, du time.Duration) <-chan *vegeta.Result {
	e.stopch = make(chan struct{})
	e.began = time.Now()
	results := make(chan *vegeta.Result, 64)
	ticks := make(chan struct{})
	var wg sync.WaitGroup
	workers := min(e.workers, e.maxWork)
	work := func() {
		defer wg.Done()
		for range ticks {
			e.pay(results)
		}
	}
	for i := uint64(0); i < workers; i++ {
		wg.Add(1)
		go work()
	}
	go func() {
		defer func() {
			close(ticks)
			wg.Wait()
			close(results)
		}()
		count := uint64(0)
		for {
			elapsed := time.Since(e.began)
			if du > 0 && elapsed > du {
				return
			}
			wait, stop := p.Pace(elapsed, count)
			if stop {
				return
			}
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-e.stopch:
					t.Stop()
					return
				}
			} else if e.stopped() {
				return
			}
			if workers < e.maxWork {
				select {
				case ticks <- struct{}{}:
					count++
					continue
				case <-e.stopch:
					return
				default:
					workers++
					wg.Add(1)
					go work()
				}
			}
			select {
			case ticks <- struct{}{}:
				count++
			case <-e.stopch:
				return
			}
		}
	}()
	return results
}

// pay runs one payment's steps and sends a result per request.
func (e *executor) pay(out chan<- *vegeta.Result) {
	e.seqmu.Lock()
	hit := e.seq
	e.seq++
	e.seqmu.Unlock()
	p := e.stream.nextPayment(e.tpl, e.forms)
	if e.track != nil {
		e.track.begin(p)
	}
	final := e.run(p, hit, out)
	if p.form == Valid {
		e.stream.answered(p.vars.Key) // also when its request could not be rendered
	}
	if e.track != nil {
		e.track.end(p, final)
	}
}

// run sends the steps; the class returned is the payment's outcome.
func (e *executor) run(p *payment, hit uint64, out chan<- *vegeta.Result) Class {
	steps := e.tpl.Steps
	for i, st := range steps {
		req := p.first
		var err error
		if i > 0 {
			req, err = st.Request.Render(&p.vars)
		} else {
			err = p.err
		}
		attempts := 1
		if st.Poll != nil {
			attempts = st.Poll.Attempts
		}
		for a := 0; a < attempts; a++ {
			if a > 0 {
				select {
				case <-time.After(st.Poll.Interval):
				case <-e.stopch:
					// Stopped while the payment is pending: it may yet happen.
					return Indeterminate
				}
			}
			res := e.newResult(hit)
			var cls Class
			var reason string
			var body []byte
			var code int
			if err != nil {
				// The request could not be rendered (a missing key of an
				// earlier answer): nothing was sent.
				res.Error = "template: " + err.Error()
				res.Method, res.URL = st.Request.Method, req.URL
				res.Latency = 0
				cls = Failed
			} else {
				if i == 0 && p.wait != nil {
					e.stream.awaitAnswer(p.wait)
					res.Timestamp = e.began.Add(time.Since(e.began)) // the wait is not the target's latency
				}
				code, body = e.do(res, req)
				if i == 0 && p.form == Valid {
					e.stream.answered(p.vars.Key)
				}
				var doc any
				decoded := false
				docf := func() any {
					if !decoded {
						doc, _ = decodeJSON(body)
						decoded = true
					}
					return doc
				}
				cls, reason = st.Outcome.Classify(code, docf, res.Error != "" && code == 0)
				if i == 0 && p.form != Valid {
					// A deliberately invalid request: refused as the
					// template expects, or not; either way the payment ends.
					exp := e.tpl.Invalid[p.form]
					got := ""
					if !st.Outcome.Reason.IsZero() {
						got, _ = st.Outcome.Reason.Text(docf())
					}
					outcome := "unexpected"
					if code == exp.Status && got == exp.Reason {
						outcome = "refused"
					}
					res.URL += tag(p.form, i, st.Name, outcome, reason, exp.String())
					out <- res
					if outcome == "unexpected" && (cls == Settled || cls == Pending || cls == Indeterminate) {
						return Indeterminate
					}
					return Failed
				}
				if cls == Settled || cls == Pending {
					p.vars.Steps = withStep(p.vars.Steps, st.Name, code, res.Headers, docf())
				}
			}
			last := i == len(steps)-1
			switch {
			case cls == Pending && st.Poll != nil && a < attempts-1:
				res.URL += tag(p.form, i, st.Name, "next", "", "")
				out <- res
				continue
			case !last && (cls == Settled || cls == Pending && st.Poll == nil):
				res.URL += tag(p.form, i, st.Name, "next", "", "")
				out <- res
			default:
				res.URL += tag(p.form, i, st.Name, cls.String(), reason, "")
				out <- res
				return cls
			}
			break
		}
	}
	return Failed // not reached: the last step always returns
}

func withStep(m map[string]map[string]any, name string, code int, h http.Header, doc any) map[string]map[string]any {
	if m == nil {
		m = map[string]map[string]any{}
	}
	hs := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 0 {
			hs[k] = v[0]
		}
	}
	m[name] = map[string]any{"status": code, "body": doc, "headers": hs}
	return m
}

func (e *executor) newResult(hit uint64) *vegeta.Result {
	res := &vegeta.Result{Attack: e.name, Seq: hit}
	e.seqmu.Lock()
	res.Timestamp = e.began.Add(time.Since(e.began))
	e.seqmu.Unlock()
	return res
}

// do sends one request and fills the result as vegeta's Attacker does.
func (e *executor) do(res *vegeta.Result, r Rendered) (int, []byte) {
	res.Method, res.URL = r.Method, r.URL
	defer func() { res.Latency = time.Since(res.Timestamp) }()
	var body io.Reader = http.NoBody
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(context.Background(), r.Method, r.URL, body)
	if err != nil {
		res.Error = err.Error()
		return 0, nil
	}
	req.Header = r.Header.Clone()
	req.Header.Set("X-Vegeta-Seq", strconv.FormatUint(res.Seq, 10))
	if e.name != "" {
		req.Header.Set("X-Vegeta-Attack", e.name)
	}
	res.BytesOut = uint64(len(r.Body))
	resp, err := e.client.Do(req)
	if err != nil {
		res.Error = err.Error()
		return 0, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxStepBody))
	_, _ = io.Copy(io.Discard, resp.Body)
	res.BytesIn = uint64(len(b))
	res.Body = b[:min(len(b), resultBody):min(len(b), resultBody)]
	res.Headers = resp.Header
	res.Code = uint16(resp.StatusCode)
	if err != nil {
		// The answer broke off: what it said is unknown.
		res.Error = err.Error()
		res.Code = 0
		return 0, nil
	}
	if res.Code < 200 || res.Code >= 400 {
		res.Error = resp.Status
	}
	return resp.StatusCode, b
}

// tag marks a result with what the template made of it, in the URL's
// fragment (never sent): form, step, outcome and, for a decline, the
// reason; for an invalid request, the answer it had to get. The
// aggregator and `walletsim report` read it back (parseTag).
func tag(f Form, i int, step, outcome, reason, want string) string {
	var b strings.Builder
	b.WriteString("#")
	b.WriteString(f.String())
	b.WriteString(";step=")
	b.WriteString(strconv.Itoa(i))
	b.WriteByte('.')
	b.WriteString(step)
	b.WriteString(";outcome=")
	b.WriteString(outcome)
	if reason != "" {
		b.WriteString(";reason=")
		b.WriteString(fragmentSafe(reason))
	}
	if want != "" {
		b.WriteString(";want=")
		b.WriteString(fragmentSafe(want))
	}
	return b.String()
}

// tagged is a parsed tag.
type tagged struct {
	form         Form
	step         int
	outcome      string
	reason, want string
	ok           bool
}

func parseTag(frag string) tagged {
	parts := strings.Split(frag, ";")
	if len(parts) < 2 {
		return tagged{}
	}
	t := tagged{form: parseForm(parts[0]), ok: true}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "step":
			n, _, _ := strings.Cut(v, ".")
			t.step, _ = strconv.Atoi(n)
		case "outcome":
			t.outcome = v
		case "reason":
			t.reason = v
		case "want":
			t.want = strings.ReplaceAll(v, "_20", " ")
		}
	}
	return t
}

// fragmentSafe keeps a reason readable and unambiguous in the fragment:
// letters, digits and _ . - as they are, a space as _20, others dropped;
// at most 64 bytes.
func fragmentSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 64; i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteString("_20")
		case c == '_' || c == '.' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			b.WriteByte(c)
		}
	}
	return b.String()
}
