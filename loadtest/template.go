package loadtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// A Template maps each generated payment to HTTP requests and each answer
// back to an outcome, so that walletsim's traffic can drive any payment
// API (docs/templates.md). It is YAML with Go text/template strings:
//
//	request:
//	  method: POST
//	  url: "{{.Target}}/pay"
//	  headers: {Content-Type: application/json}
//	  body: '{"from":"{{.From}}","to":"{{.To}}","amount":{{.Amount}},"id":"{{.Key}}"}'
//	outcome:
//	  settled: [200, 201]
//	  declined: [402, 409, 422]
//	  reason: "$.error"
//	balance:
//	  url: "{{.Target}}/accounts/{{.Account}}"
//	  value: "$.balance"
//
// or, instead of request and outcome, steps: that run in order for one
// payment, later ones reading earlier answers ({{.Steps.quote.body.id}}).
type Template struct {
	Name    string
	Steps   []*Step
	Balance *Balance
	// Invalid maps the forms of deliberately invalid request this API
	// can be sent (--invalid-share) to the answer each must get.
	Invalid map[Form]Expectation
	// builtin: the hand-written encoder of walletsim's API (requestFor),
	// the path attack took before templates; kept as the reference the
	// shipped template is checked against.
	builtin bool
}

// Step is one request of a payment and how its answer is read.
type Step struct {
	Name    string
	Request RequestTemplate
	Outcome Outcome
	// Poll, if set, repeats the step while its answer is pending.
	Poll *Poll
	// Final: the last step; its outcome is the payment's.
	Final bool
}

// RequestTemplate renders one HTTP request.
type RequestTemplate struct {
	Method  string
	URL     *template.Template
	Headers []headerTemplate // sorted by name
	Body    *template.Template
}

type headerTemplate struct {
	name string
	val  *template.Template
}

// Outcome maps an answer to what happened to the payment.
type Outcome struct {
	Settled, Declined, Pending []int
	// Reason, if set, reads the decline code; Reasons, if set, are the only
	// codes a decline may carry (another is a failure).
	Reason  JSONPath
	Reasons []string
	// State, if set, reads the payment's state from a body answered with
	// a settled or pending status: APIs that answer 200 {"state":"pending"}.
	State                                        JSONPath
	SettledStates, DeclinedStates, PendingStates []string
}

// Poll repeats a step every Interval while pending, at most Attempts times.
type Poll struct {
	Interval time.Duration
	Attempts int
}

// Balance reads one account's balance for the end-state check.
type Balance struct {
	Request RequestTemplate
	Value   JSONPath
}

// Expectation is the answer a deliberately invalid request must get.
type Expectation struct {
	Status int
	Reason string
}

func (e Expectation) String() string { return strconv.Itoa(e.Status) + " " + e.Reason }

// Vars are what a template can use. From and To are account keys unique
// across kinds: wallet-17, merchant-3, operator-mtr; a top-up comes from
// external-bank, an account outside the target whose balance is never
// read.
type Vars struct {
	Target   string // the --target base URL, no trailing slash
	Token    string // the bearer token, if any
	Seq      uint64 // the payment's index in the attack (all shards)
	Key      string // a unique idempotency key
	Kind     string // scan_mpm, scan_cpm, p2p, cross_transfer, red_packet, transit, topup
	From, To string
	Amount   int64  // integer minor units
	Currency string // CNY, HKD
	Account  string // balance: the account read
	// Steps holds the answers of earlier steps by name: status (int),
	// body (the decoded JSON) and headers (first value of each).
	Steps map[string]map[string]any
}

// ExternalPrefix starts the keys of accounts outside the target.
const ExternalPrefix = "external-"

var funcs = template.FuncMap{
	// id is an account key's own part: id "wallet-17" is 17, id
	// "operator-mtr" is mtr.
	"id": func(key string) string {
		_, id, ok := strings.Cut(key, "-")
		if !ok {
			return key
		}
		return id
	},
	// json writes a value as JSON (a quoted, escaped string).
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// Builtin is the hand-written encoder of walletsim's own API, the path
// attack took before templates (--template builtin).
func Builtin() *Template { return &Template{Name: "builtin", builtin: true} }

// IsBuiltin reports the hand-written encoder.
func (t *Template) IsBuiltin() bool { return t.builtin }

//go:embed templates/*.yaml
var shipped embed.FS

// DefaultTemplate is walletsim.yaml: walletsim's own API, what attack
// uses without --template.
const DefaultTemplate = "walletsim.yaml"

// LoadTemplate reads a template: "builtin", a shipped one by file name
// (walletsim.yaml, walletsim-async.yaml: loadtest/templates), or a file.
func LoadTemplate(name string) (*Template, error) {
	if name == "builtin" {
		return Builtin(), nil
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsRune(name, '/') {
		if b, e := shipped.ReadFile("templates/" + name); e == nil {
			data, err = b, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return ParseTemplate(name, data)
}

// The YAML as written. Every key is checked against these types'
// tags (checkKeys), so a typo is an error naming its line.
type fileSpec struct {
	Request *requestSpec           `yaml:"request"`
	Outcome *outcomeSpec           `yaml:"outcome"`
	Poll    *pollSpec              `yaml:"poll"`
	Steps   []stepSpec             `yaml:"steps"`
	Balance *balanceSpec           `yaml:"balance"`
	Invalid map[string]invalidSpec `yaml:"invalid"`
}

type requestSpec struct {
	Method  string            `yaml:"method"`
	URL     yaml.Node         `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Body    yaml.Node         `yaml:"body"`
}

type outcomeSpec struct {
	Settled  []int       `yaml:"settled"`
	Declined []int       `yaml:"declined"`
	Pending  []int       `yaml:"pending"`
	Reason   string      `yaml:"reason"`
	Reasons  []string    `yaml:"reasons"`
	State    string      `yaml:"state"`
	States   *statesSpec `yaml:"states"`
}

type statesSpec struct {
	Settled  []string `yaml:"settled"`
	Declined []string `yaml:"declined"`
	Pending  []string `yaml:"pending"`
}

type pollSpec struct {
	Interval string `yaml:"interval"`
	Attempts int    `yaml:"attempts"`
}

type stepSpec struct {
	Name    string       `yaml:"name"`
	Request *requestSpec `yaml:"request"`
	Outcome *outcomeSpec `yaml:"outcome"`
	Poll    *pollSpec    `yaml:"poll"`
}

type balanceSpec struct {
	URL     yaml.Node         `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Value   string            `yaml:"value"`
}

type invalidSpec struct {
	Status int    `yaml:"status"`
	Reason string `yaml:"reason"`
}

// templateError names the file and line of what is wrong.
type templateError struct {
	file string
	line int
	msg  string
}

func (e *templateError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("template %s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("template %s: %s", e.file, e.msg)
}

// ParseTemplate decodes and checks a template; name is what errors call
// it. Unknown keys, bad status lists, JSONPaths and text/templates that
// do not parse are errors naming the key and line.
func ParseTemplate(name string, data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &templateError{file: name, msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, &templateError{file: name, msg: "empty template: want request and outcome, or steps"}
	}
	doc := root.Content[0]
	if err := checkKeys(name, doc, reflect.TypeOf(fileSpec{}), ""); err != nil {
		return nil, err
	}
	var fs fileSpec
	if err := doc.Decode(&fs); err != nil {
		return nil, &templateError{file: name, msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	c := compiler{file: name, doc: doc}
	t := &Template{Name: name}
	switch {
	case len(fs.Steps) > 0 && (fs.Request != nil || fs.Outcome != nil || fs.Poll != nil):
		return nil, c.errAt("steps", "steps exclude request, outcome and poll: put them in the steps")
	case len(fs.Steps) > 0:
		seen := map[string]bool{}
		for i, s := range fs.Steps {
			key := fmt.Sprintf("steps[%d]", i)
			if !stepName.MatchString(s.Name) {
				return nil, c.errAt(key, fmt.Sprintf("%s.name %q: want a name of letters, digits and _ (it is how later steps read this one: {{.Steps.NAME.body...}})", key, s.Name))
			}
			if seen[s.Name] {
				return nil, c.errAt(key, fmt.Sprintf("%s.name %q: used twice", key, s.Name))
			}
			seen[s.Name] = true
			st, err := c.step(key, s.Name, s.Request, s.Outcome, s.Poll)
			if err != nil {
				return nil, err
			}
			t.Steps = append(t.Steps, st)
		}
	case fs.Request != nil || fs.Outcome != nil:
		st, err := c.step("", "request", fs.Request, fs.Outcome, fs.Poll)
		if err != nil {
			return nil, err
		}
		t.Steps = []*Step{st}
	default:
		return nil, &templateError{file: name, msg: "want request and outcome, or steps"}
	}
	t.Steps[len(t.Steps)-1].Final = true
	if fs.Balance != nil {
		b := &Balance{}
		var err error
		if b.Request, err = c.request("balance", &requestSpec{Method: http.MethodGet, URL: fs.Balance.URL, Headers: fs.Balance.Headers}, true); err != nil {
			return nil, err
		}
		if fs.Balance.Value == "" {
			return nil, c.errAt("balance", "balance.value: want a JSONPath to the balance in minor units, e.g. $.balance")
		}
		if b.Value, err = ParseJSONPath(fs.Balance.Value); err != nil {
			return nil, c.errAt("balance.value", "balance.value: "+err.Error())
		}
		t.Balance = b
	}
	if len(fs.Invalid) > 0 {
		t.Invalid = map[Form]Expectation{}
		for k, v := range fs.Invalid {
			f := parseForm(k)
			if f == Valid || f >= NumForms {
				return nil, c.errAt("invalid."+k, fmt.Sprintf("invalid: unknown form %q (want one of %s)", k, strings.Join(formNames(), ", ")))
			}
			if v.Status < 100 || v.Status > 599 {
				return nil, c.errAt("invalid."+k, fmt.Sprintf("invalid.%s.status %d: want an HTTP status", k, v.Status))
			}
			t.Invalid[f] = Expectation{Status: v.Status, Reason: v.Reason}
		}
	}
	if err := t.dryRun(); err != nil {
		return nil, err
	}
	return t, nil
}

var stepName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func formNames() []string {
	var out []string
	for f := Valid + 1; f < NumForms; f++ {
		out = append(out, f.String())
	}
	return out
}

// checkKeys walks the YAML beside the Go type it decodes into and rejects
// keys the type does not have, naming the line, the section and the keys
// it has.
func checkKeys(file string, n *yaml.Node, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(yaml.Node{}) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			return &templateError{file: file, line: n.Line, msg: fmt.Sprintf("%s: want a mapping of keys, found %s", section(at), nodeKind(n))}
		}
		known := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			known[tag] = f
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := known[k.Value]
			if !ok {
				return &templateError{file: file, line: k.Line, msg: fmt.Sprintf("unknown key %q in %s (want one of: %s)", k.Value, section(at), strings.Join(names, ", "))}
			}
			if err := checkKeys(file, v, f.Type, join(at, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := checkKeys(file, n.Content[i+1], t.Elem(), join(at, n.Content[i].Value)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if err := checkKeys(file, c, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func section(at string) string {
	if at == "" {
		return "the template"
	}
	return at
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", clipString(n.Value, 30))
	}
	return "something else"
}

type compiler struct {
	file string
	doc  *yaml.Node
}

// line finds the line of a dotted key (steps[1].request.body) in the YAML.
func (c *compiler) line(key string) int {
	n := c.doc
	line := n.Line
	for _, part := range strings.Split(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		found := false
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
		}
		if !found {
			return line
		}
		if idx >= 0 && n.Kind == yaml.SequenceNode && idx < len(n.Content) {
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func (c *compiler) errAt(key, msg string) error {
	return &templateError{file: c.file, line: c.line(key), msg: msg}
}

func (c *compiler) step(at, name string, rs *requestSpec, oc *outcomeSpec, ps *pollSpec) (*Step, error) {
	pre := func(k string) string { return join(at, k) }
	if rs == nil {
		return nil, c.errAt(at, pre("request")+": missing")
	}
	if oc == nil {
		return nil, c.errAt(at, pre("outcome")+": missing (which statuses settle the payment?)")
	}
	st := &Step{Name: name}
	var err error
	if st.Request, err = c.request(pre("request"), rs, false); err != nil {
		return nil, err
	}
	o := Outcome{Settled: oc.Settled, Declined: oc.Declined, Pending: oc.Pending, Reasons: oc.Reasons}
	if len(o.Settled) == 0 {
		return nil, c.errAt(pre("outcome"), pre("outcome.settled")+": want the statuses of a settled answer, e.g. [200, 201]")
	}
	seen := map[int]string{}
	for _, l := range []struct {
		name string
		v    []int
	}{{"settled", o.Settled}, {"declined", o.Declined}, {"pending", o.Pending}} {
		for _, code := range l.v {
			if code < 100 || code > 599 {
				return nil, c.errAt(pre("outcome."+l.name), fmt.Sprintf("%s: %d is not an HTTP status", pre("outcome."+l.name), code))
			}
			if prev, dup := seen[code]; dup {
				return nil, c.errAt(pre("outcome."+l.name), fmt.Sprintf("%s: %d is also in %s", pre("outcome."+l.name), code, prev))
			}
			seen[code] = l.name
		}
	}
	if oc.Reason != "" {
		if o.Reason, err = ParseJSONPath(oc.Reason); err != nil {
			return nil, c.errAt(pre("outcome.reason"), pre("outcome.reason")+": "+err.Error())
		}
	} else if len(o.Reasons) > 0 {
		return nil, c.errAt(pre("outcome.reasons"), pre("outcome.reasons")+": needs outcome.reason, the JSONPath that reads them")
	}
	if oc.State != "" {
		if o.State, err = ParseJSONPath(oc.State); err != nil {
			return nil, c.errAt(pre("outcome.state"), pre("outcome.state")+": "+err.Error())
		}
		if oc.States == nil || len(oc.States.Settled) == 0 {
			return nil, c.errAt(pre("outcome.state"), pre("outcome.states.settled")+": outcome.state needs the states that mean settled")
		}
		o.SettledStates, o.DeclinedStates, o.PendingStates = oc.States.Settled, oc.States.Declined, oc.States.Pending
	} else if oc.States != nil {
		return nil, c.errAt(pre("outcome.states"), pre("outcome.states")+": needs outcome.state, the JSONPath that reads them")
	}
	st.Outcome = o
	if ps != nil {
		d, err := time.ParseDuration(ps.Interval)
		if err != nil || d <= 0 || d > time.Minute {
			return nil, c.errAt(pre("poll.interval"), fmt.Sprintf("%s %q: want a duration over 0 and at most 1m", pre("poll.interval"), ps.Interval))
		}
		if ps.Attempts < 1 || ps.Attempts > 1000 {
			return nil, c.errAt(pre("poll.attempts"), fmt.Sprintf("%s %d: want 1-1000", pre("poll.attempts"), ps.Attempts))
		}
		if len(o.Pending) == 0 && len(o.PendingStates) == 0 {
			return nil, c.errAt(pre("poll"), pre("poll")+": the outcome has no pending status or state to poll on")
		}
		st.Poll = &Poll{Interval: d, Attempts: ps.Attempts}
	}
	return st, nil
}

// request compiles a request's templates; a parse error names the key
// and the file's line.
func (c *compiler) request(at string, rs *requestSpec, balance bool) (RequestTemplate, error) {
	var rt RequestTemplate
	rt.Method = strings.ToUpper(rs.Method)
	if rt.Method == "" {
		rt.Method = http.MethodPost
	}
	if !validMethod(rt.Method) {
		return rt, c.errAt(at+".method", fmt.Sprintf("%s.method %q: not an HTTP method", at, rs.Method))
	}
	var err error
	if rs.URL.Value == "" {
		return rt, c.errAt(at, at+".url: missing")
	}
	if rt.URL, err = c.text(at+".url", &rs.URL); err != nil {
		return rt, err
	}
	if !balance {
		if rt.Body, err = c.text(at+".body", &rs.Body); err != nil {
			return rt, err
		}
	}
	names := make([]string, 0, len(rs.Headers))
	for k := range rs.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !validHeader(k) {
			return rt, c.errAt(at+".headers", fmt.Sprintf("%s.headers: %q is not a header name", at, k))
		}
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: rs.Headers[k], Line: c.line(at + ".headers")}
		tt, err := c.text(at+".headers."+k, n)
		if err != nil {
			return rt, err
		}
		rt.Headers = append(rt.Headers, headerTemplate{name: http.CanonicalHeaderKey(k), val: tt})
	}
	return rt, nil
}

var tplLine = regexp.MustCompile(`^template: [^:]*:(\d+):`)

// text compiles one string as a text/template. Missing map keys are
// errors, so {{.Steps.quote.body.idd}} fails the request instead of
// sending "<no value>".
func (c *compiler) text(key string, n *yaml.Node) (*template.Template, error) {
	t, err := template.New(key).Funcs(funcs).Option("missingkey=error").Parse(n.Value)
	if err != nil {
		line := n.Line
		if m := tplLine.FindStringSubmatch(err.Error()); m != nil {
			l, _ := strconv.Atoi(m[1])
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				l++ // a block scalar starts on the line after its indicator
			}
			line += l - 1
		}
		msg := tplLine.ReplaceAllString(err.Error(), "")
		return nil, &templateError{file: c.file, line: line, msg: fmt.Sprintf("%s: does not parse:%s", key, msg)}
	}
	return t, nil
}

func validMethod(m string) bool {
	return slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, m)
}

func validHeader(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// dryRun renders every template once with sample variables, so that a
// misspelt variable ({{.Amout}}) is an error at load, naming the key,
// not a failed request per payment. Answers of earlier steps are not
// known yet: only errors about Vars' own fields count.
func (t *Template) dryRun() error {
	v := Vars{Target: "http://127.0.0.1:1", Seq: 1, Key: "k-1", Kind: "p2p", From: "wallet-1", To: "wallet-2",
		Amount: 100, Currency: "HKD", Account: "wallet-1", Steps: map[string]map[string]any{}}
	check := func(tt *template.Template) error {
		if tt == nil {
			return nil
		}
		err := tt.Execute(&bytes.Buffer{}, &v)
		if err != nil && strings.Contains(err.Error(), "can't evaluate field") {
			return &templateError{file: t.Name, msg: err.Error()}
		}
		return nil
	}
	all := func(r RequestTemplate) error {
		errs := []error{check(r.URL), check(r.Body)}
		for _, h := range r.Headers {
			errs = append(errs, check(h.val))
		}
		return errors.Join(errs...)
	}
	for _, s := range t.Steps {
		if err := all(s.Request); err != nil {
			return err
		}
		v.Steps[s.Name] = map[string]any{"status": 200, "body": map[string]any{}, "headers": map[string]string{}}
	}
	if t.Balance != nil {
		return all(t.Balance.Request)
	}
	return nil
}

// Rendered is one request ready to send.
type Rendered struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Render executes a request template with the variables.
func (r *RequestTemplate) Render(v *Vars) (Rendered, error) {
	var b bytes.Buffer
	out := Rendered{Method: r.Method, Header: make(http.Header, len(r.Headers))}
	if err := r.URL.Execute(&b, v); err != nil {
		return out, err
	}
	out.URL = b.String()
	for _, h := range r.Headers {
		b.Reset()
		if err := h.val.Execute(&b, v); err != nil {
			return out, err
		}
		if b.Len() > 0 {
			// An empty value drops the header: {{with .Token}}Bearer {{.}}{{end}}.
			out.Header[h.name] = []string{b.String()}
		}
	}
	if r.Body != nil {
		b.Reset()
		if err := r.Body.Execute(&b, v); err != nil {
			return out, err
		}
		if b.Len() > 0 {
			out.Body = bytes.Clone(b.Bytes())
		}
	}
	return out, nil
}

// Class is what an answer says happened.
type Class uint8

// Classes of answers.
const (
	// Settled: the payment (or, for a step before the last, the step)
	// succeeded.
	Settled Class = iota
	Pending
	Declined
	// Failed: a definite failure that moved no money (an unexpected 4xx).
	Failed
	// Indeterminate: no answer, a timeout or a 5xx: the payment may or
	// may not have happened (Jepsen's indeterminate operations).
	Indeterminate
)

var classNames = [...]string{"settled", "pending", "declined", "failed", "indeterminate"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Classify reads an answer: its status, the body's state and reason.
// err is the transport's (no answer).
func (o *Outcome) Classify(code int, doc func() any, transportErr bool) (Class, string) {
	if transportErr || code == 0 {
		return Indeterminate, ""
	}
	var c Class
	switch {
	case slices.Contains(o.Settled, code):
		c = Settled
	case slices.Contains(o.Pending, code):
		c = Pending
	case slices.Contains(o.Declined, code):
		c = Declined
	case code >= 500:
		return Indeterminate, ""
	default:
		return Failed, ""
	}
	if c != Declined && !o.State.IsZero() {
		s, err := o.State.Text(doc())
		switch {
		case err != nil:
			return Failed, ""
		case slices.Contains(o.SettledStates, s):
			c = Settled
		case slices.Contains(o.PendingStates, s):
			c = Pending
		case slices.Contains(o.DeclinedStates, s):
			c = Declined
		default:
			return Failed, ""
		}
	}
	if c != Declined {
		return c, ""
	}
	reason := ""
	if !o.Reason.IsZero() {
		reason, _ = o.Reason.Text(doc())
	}
	if len(o.Reasons) > 0 && !slices.Contains(o.Reasons, reason) {
		return Failed, reason
	}
	return Declined, reason
}
