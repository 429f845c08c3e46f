// Package netfault is a small TCP proxy in front of a Kafka broker that
// injects the faults a real cluster's network has and a broker's own error
// responses never show: connections reset at any moment (a leader
// election, a rolling restart, an idle timeout) and lost responses (the
// broker appended the produce, the client never heard and sends it again).
//
// It speaks just enough of the Kafka protocol to do that: the 4-byte size
// framing, each request's API key, version and correlation ID, and the
// Metadata and FindCoordinator responses, whose broker addresses it
// rewrites to its own, so that every connection a client opens after
// bootstrapping still goes through the proxy. It fronts one broker (the
// embedded broker or a single-node standalone one): every broker a
// Metadata response names is rewritten to the proxy's address.
package netfault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Kafka API keys the proxy looks at.
const (
	apiProduce         = 0
	apiMetadata        = 3
	apiFindCoordinator = 10
)

// maxFrame bounds one request or response: a frame claiming more is a
// protocol error, and the connection is dropped rather than buffered.
const maxFrame = 256 << 20

// Proxy forwards connections to one upstream broker.
type Proxy struct {
	upstream string
	ln       net.Listener
	host     string
	port     int32

	mu    sync.Mutex
	conns map[*link]struct{}
	wg    sync.WaitGroup

	lose      atomic.Int64 // produce responses still to drop
	loseT     atomic.Int64 // of those, how many must be for loseTopic
	dropT     atomic.Int64 // produce requests for loseTopic to cut off before the broker
	dropMeta  atomic.Int64 // metadata requests to cut off before the broker
	dropped   atomic.Int64
	loseTopic atomic.Pointer[[]byte]
	resets    atomic.Int64 // connections reset (Reset and lost responses)
	lost      atomic.Int64 // produce responses dropped
	rewrites  atomic.Int64
	produces  atomic.Int64 // produce requests forwarded to the broker
	stall     atomic.Pointer[chan struct{}]
	closed    atomic.Bool
}

// link is one client connection and its upstream.
type link struct {
	client, up net.Conn
	mu         sync.Mutex
	pending    map[int32]reqInfo // correlation ID -> request
	once       sync.Once
}

type reqInfo struct {
	key, version int16
	topic        bool // a produce that names the lose topic
}

// Start listens on listen (host:port, port 0 picks one) and forwards to
// upstream.
func Start(listen, upstream string) (*Proxy, error) {
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return nil, fmt.Errorf("netfault: upstream %q: %w", upstream, err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("netfault: listen %s: %w", listen, err)
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	px := &Proxy{upstream: upstream, ln: ln, host: host, port: int32(p), conns: map[*link]struct{}{}}
	px.wg.Add(1)
	go px.accept()
	return px, nil
}

// Addr is the proxy's address: give it to clients as the bootstrap broker.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Resets counts connections reset so far; Lost counts produce responses
// dropped (each also resets its connection, counted in Resets too).
func (p *Proxy) Resets() int64 { return p.resets.Load() }

// Lost counts produce responses dropped after the broker served them.
func (p *Proxy) Lost() int64 { return p.lost.Load() }

// Conns is the number of client connections open now.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening and drops every connection.
func (p *Proxy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.ln.Close()
	p.Resume()
	p.mu.Lock()
	for l := range p.conns {
		l.kill()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// Reset drops every open connection with a TCP reset, at whatever point
// its requests are: what a broker restart or a network blip does to a
// client. It returns how many were reset.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	ls := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		l.kill()
	}
	p.resets.Add(int64(len(ls)))
	return len(ls)
}

// Stall holds every response from the broker (new connections' too)
// until Resume: a broker that stopped answering without closing anything,
// as one paused (SIGSTOP) or cut off by a network partition. Requests
// still reach the broker.
func (p *Proxy) Stall() {
	ch := make(chan struct{})
	if !p.stall.CompareAndSwap(nil, &ch) {
		return // already stalled
	}
}

// Resume releases the responses Stall held.
func (p *Proxy) Resume() {
	if ch := p.stall.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Produces counts produce requests forwarded to the broker.
func (p *Proxy) Produces() int64 { return p.produces.Load() }

// LoseResponses arms n lost responses: each of the next n produce
// responses is dropped after the broker appended the records, and its
// connection reset, so the client cannot tell whether the write landed.
func (p *Proxy) LoseResponses(n int) { p.lose.Add(int64(n)) }

// LoseTopicResponses arms n lost responses of produce requests that write
// to the topic set with SetLoseTopic (the events topic: where a resent
// batch puts a wallet's events in the log twice).
func (p *Proxy) LoseTopicResponses(n int) {
	p.loseT.Add(int64(n))
	p.lose.Add(int64(n))
}

// SetLoseTopic names the topic LoseTopicResponses aims at.
func (p *Proxy) SetLoseTopic(topic string) {
	b := []byte(topic)
	p.loseTopic.Store(&b)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, up: up, pending: map[int32]reqInfo{}}
		p.mu.Lock()
		if p.closed.Load() {
			p.mu.Unlock()
			l.kill()
			return
		}
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.requests(l)
		go p.responses(l)
	}
}

// kill closes both sides with a reset (SO_LINGER 0), not a FIN: the client
// sees ECONNRESET, as from a broker that went away.
func (l *link) kill() {
	l.once.Do(func() {
		for _, c := range []net.Conn{l.client, l.up} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	})
}

func (p *Proxy) drop(l *link) {
	l.kill()
	p.mu.Lock()
	delete(p.conns, l)
	p.mu.Unlock()
}

// readFrame reads one size-prefixed frame into buf (reused), returning the
// frame including its 4-byte size.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	buf = slices.Grow(buf[:0], 4)[:4]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(buf)))
	if n < 4 || n > maxFrame {
		return nil, fmt.Errorf("netfault: frame of %d bytes", n)
	}
	buf = slices.Grow(buf, n)[:4+n]
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return buf, nil
}

// requests forwards client -> broker, noting each request's API so its
// response can be recognised.
func (p *Proxy) requests(l *link) {
	defer p.wg.Done()
	defer p.drop(l)
	var buf []byte
	for {
		f, err := readFrame(l.client, buf)
		if err != nil {
			return
		}
		buf = f
		if len(f) >= 12 {
			key := int16(binary.BigEndian.Uint16(f[4:]))
			ver := int16(binary.BigEndian.Uint16(f[6:]))
			corr := int32(binary.BigEndian.Uint32(f[8:]))
			// acks=0 produce has no response; walletsim writes acks=all.
			ri := reqInfo{key: key, version: ver}
			if lt := p.loseTopic.Load(); key == apiProduce && lt != nil {
				// The topic name is a string in the request body; a
				// substring match is enough to pick targets.
				ri.topic = bytes.Contains(f[12:], *lt)
			}
			if key == apiMetadata && takeOne(&p.dropMeta) {
				p.dropped.Add(1)
				p.resets.Add(1)
				return
			}
			if ri.topic && takeOne(&p.dropT) {
				// Reset before the broker saw it: nothing appended.
				p.dropped.Add(1)
				p.resets.Add(1)
				return
			}
			l.mu.Lock()
			l.pending[corr] = ri
			l.mu.Unlock()
			if key == apiProduce {
				p.produces.Add(1)
			}
		}
		if _, err := l.up.Write(f); err != nil {
			return
		}
	}
}

// responses forwards broker -> client, rewriting broker addresses and
// dropping the produce responses it was told to lose.
func (p *Proxy) responses(l *link) {
	defer p.wg.Done()
	defer p.drop(l)
	var buf []byte
	for {
		f, err := readFrame(l.up, buf)
		if err != nil {
			return
		}
		buf = f
		if len(f) < 8 {
			return
		}
		if st := p.stall.Load(); st != nil {
			<-*st // the link's kill does not wake this; Resume or Close does
		}
		corr := int32(binary.BigEndian.Uint32(f[4:]))
		l.mu.Lock()
		ri, ok := l.pending[corr]
		delete(l.pending, corr)
		l.mu.Unlock()
		out := f
		if ok {
			switch ri.key {
			case apiProduce:
				if p.takeLoss(ri.topic) {
					// The broker served it; the client will never know.
					p.lost.Add(1)
					p.resets.Add(1)
					return
				}
			case apiMetadata, apiFindCoordinator:
				if r, err := p.rewrite(ri, f); err == nil {
					out = r
					p.rewrites.Add(1)
				}
			}
		}
		if _, err := l.client.Write(out); err != nil {
			return
		}
	}
}

func takeOne(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// DropTopicRequests arms n produce requests for the SetLoseTopic topic
// that the connection is reset under before they reach the broker: the
// write fails and nothing of it is appended.
func (p *Proxy) DropTopicRequests(n int) { p.dropT.Add(int64(n)) }

// DropMetadataRequests arms n metadata requests that the connection is
// reset under before they reach the broker: a client's first metadata
// request after a reset, which kafka-go's transport remembers the error
// of until its next refresh.
func (p *Proxy) DropMetadataRequests(n int) { p.dropMeta.Add(int64(n)) }

// Dropped counts requests cut off by DropTopicRequests and
// DropMetadataRequests.
func (p *Proxy) Dropped() int64 { return p.dropped.Load() }

func (p *Proxy) takeLoss(topic bool) bool {
	if !topic && p.loseT.Load() > 0 {
		return false
	}
	if topic {
		for {
			n := p.loseT.Load()
			if n <= 0 {
				break
			}
			if p.loseT.CompareAndSwap(n, n-1) {
				p.lose.Add(-1)
				return true
			}
		}
	}
	for {
		n := p.lose.Load()
		if n <= 0 {
			return false
		}
		if p.lose.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// rewrite points every broker address of a Metadata or FindCoordinator
// response at the proxy.
func (p *Proxy) rewrite(ri reqInfo, f []byte) ([]byte, error) {
	var msg kmsg.Response
	switch ri.key {
	case apiMetadata:
		msg = kmsg.NewPtrMetadataResponse()
	case apiFindCoordinator:
		msg = kmsg.NewPtrFindCoordinatorResponse()
	default:
		return nil, errors.New("not rewritten")
	}
	msg.SetVersion(ri.version)
	body := f[8:] // after size and correlation ID
	hdr := 0
	if msg.IsFlexible() {
		// The response header's tagged fields: walletsim's brokers send
		// none (a single zero byte); anything else is forwarded as is.
		if len(body) == 0 || body[0] != 0 {
			return nil, errors.New("response header has tagged fields")
		}
		hdr = 1
	}
	if err := msg.ReadFrom(body[hdr:]); err != nil {
		return nil, err
	}
	switch m := msg.(type) {
	case *kmsg.MetadataResponse:
		for i := range m.Brokers {
			m.Brokers[i].Host, m.Brokers[i].Port = p.host, p.port
		}
	case *kmsg.FindCoordinatorResponse:
		m.Host, m.Port = p.host, p.port
		for i := range m.Coordinators {
			m.Coordinators[i].Host, m.Coordinators[i].Port = p.host, p.port
		}
	}
	out := make([]byte, 8, len(f)+64)
	copy(out[4:], f[4:8])
	if hdr == 1 {
		out = append(out, 0)
	}
	out = msg.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out, nil
}

// Plan is a seeded schedule of faults spread over a span of wall time.
type Plan struct {
	Resets        int           // connection resets (all open connections each)
	LostResponses int           // produce responses lost
	Over          time.Duration // spread over this span from Run
	// Every, if positive, also resets every connection at this interval
	// for as long as the plan runs (a flapping network).
	Every time.Duration
	// LoseTopic, if set, aims every other lost response at produce
	// requests for this topic (the rest hit whatever produce comes next).
	LoseTopic string
	Seed      int64
}

// Validate reports what is wrong with the plan.
func (pl Plan) Validate() error {
	switch {
	case pl.Resets < 0 || pl.Resets > 1_000_000:
		return fmt.Errorf("resets: want 0-1000000, got %d", pl.Resets)
	case pl.LostResponses < 0 || pl.LostResponses > 1_000_000:
		return fmt.Errorf("lost responses: want 0-1000000, got %d", pl.LostResponses)
	case (pl.Resets > 0 || pl.LostResponses > 0) && pl.Over <= 0:
		return fmt.Errorf("fault span must be positive, got %s", pl.Over)
	case pl.Every < 0:
		return fmt.Errorf("reset interval %s is negative", pl.Every)
	}
	return nil
}

// Enabled reports whether the plan injects anything.
func (pl Plan) Enabled() bool { return pl.Resets > 0 || pl.LostResponses > 0 || pl.Every > 0 }

// Run injects the plan's faults into p until they are all delivered (and,
// with Every, until stop is closed). The same seed gives the same times.
func (pl Plan) Run(p *Proxy, stop <-chan struct{}) {
	type shot struct {
		at   time.Duration
		lose bool
	}
	rng := rand.New(rand.NewPCG(uint64(pl.Seed), 0x6e657466))
	var shots []shot
	for i := 0; i < pl.Resets; i++ {
		shots = append(shots, shot{at: time.Duration(rng.Int64N(int64(pl.Over)))})
	}
	for i := 0; i < pl.LostResponses; i++ {
		shots = append(shots, shot{at: time.Duration(rng.Int64N(int64(pl.Over))), lose: true})
	}
	slices.SortFunc(shots, func(a, b shot) int { return int(a.at - b.at) })
	if pl.LoseTopic != "" {
		p.SetLoseTopic(pl.LoseTopic)
	}
	start := time.Now()
	var tick <-chan time.Time
	lost := 0
	if pl.Every > 0 {
		t := time.NewTicker(pl.Every)
		defer t.Stop()
		tick = t.C
	}
	for len(shots) > 0 || tick != nil {
		var next <-chan time.Time
		if len(shots) > 0 {
			next = time.After(time.Until(start.Add(shots[0].at)))
		}
		select {
		case <-stop:
			return
		case <-tick:
			p.Reset()
		case <-next:
			if shots[0].lose {
				if pl.LoseTopic != "" && lost%2 == 0 {
					p.LoseTopicResponses(1)
				} else {
					p.LoseResponses(1)
				}
				lost++
			} else {
				p.Reset()
			}
			shots = shots[1:]
		}
	}
}
