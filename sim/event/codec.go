package event

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walletsim/walletsim/sim"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers: see walletsim.proto. Never reuse or renumber.
const (
	fVersion = 1
	fType    = 2
)

// Event fields.
const (
	evID = 3 + iota
	evWallet
	evSeq
	evCommand
	evSimTime
	evKind
	evAmount
	evCurrency
	evBalanceAfter
	evCounterparty
	evRoute
	evReason
	evAttempt
	evFXRate
	evLatencyUS
	evGreenGrams
	evProvider
	evRegion
	evClass
	evPostings
	evFlags
	evEpoch
	// Appended later: new fields go at the end, never in between.
	evPeer
	evHops
	evApps
	evReceiptGrams
	evCard
	evTarget
	evQuotaUsed
	evYearSpent
	evLifeSpent
)

// Posting fields.
const (
	poAccount  = 1
	poAmount   = 2
	poCurrency = 3
)

// Command fields.
const (
	cmID = 3 + iota
	cmWallet
	cmSimTime
	cmEpoch
	cmKind
	cmAmount
	cmCurrency
	cmCounterparty
	cmAcceptors
	cmAccRegion
	cmStatic
	cmCandidates
	cmAttempt
	cmAllUnaccepted
	cmLastReason
	cmProvider
	cmRegion
	cmClass
	cmRoute
	cmHeldAmount
	cmHeldCurrency
	cmFXRate
	cmReason
	cmSource
	cmCount
	cmTotal
	cmLast
	// Appended later: new fields go at the end, never in between.
	cmPeer
	cmApps
	cmEReceipt
	cmIdem
	cmPayeeSibling
	cmCard
	cmTarget
	cmQuotaUsed
	cmCardFirst
	cmRebalance
	cmTier
	cmHeldCard
	cmYearSpent
	cmLifeSpent
)

// Decoding errors. ErrVersion is distinct so the engine can dead-letter a
// record from a newer writer with a precise reason.
var (
	ErrVersion   = errors.New("unsupported schema version")
	ErrMalformed = errors.New("malformed record")
)

// consumeVarint is the varint read of the candidate lists; the decode
// loops inline its one-byte fast path themselves.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// maxRecord bounds one encoded event or command: 40 varint fields of at
// most 12 bytes with their tags, 12 postings of at most 36, candidates and
// the idempotency key (MaxPostings, MaxCandidates).
const maxRecord = 1024

// putVarint writes v at buf[i:] and returns the index past it. The
// encoders write into spare capacity grown once to maxRecord: appending
// field by field through protowire cost a call and a capacity check per
// field, and was most of AppendEvent's time.
func putVarint(buf []byte, i int, v uint64) int {
	for v >= 0x80 {
		buf[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	buf[i] = byte(v)
	return i + 1
}

// putU writes a varint field (nothing for 0); putS a zigzag one.
func putU(buf []byte, i int, num protowire.Number, v uint64) int {
	if v == 0 {
		return i
	}
	return putVarint(buf, putVarint(buf, i, uint64(num)<<3|uint64(protowire.VarintType)), v)
}

func putS(buf []byte, i int, num protowire.Number, v int64) int {
	return putU(buf, i, num, uint64(v<<1)^uint64(v>>63))
}

// AppendEvent appends e's encoding to b. b is meant to have room to spare
// (an arena): a nil b gets maxRecord bytes of capacity.
func AppendEvent(b []byte, e *Event) []byte {
	b = slices.Grow(b, maxRecord)
	o := len(b)
	buf := b[o : o+maxRecord]
	i := putU(buf, 0, fVersion, Version)
	i = putU(buf, i, fType, uint64(e.Type))
	i = putU(buf, i, evID, e.ID)
	i = putU(buf, i, evWallet, e.Wallet)
	i = putU(buf, i, evSeq, e.Seq)
	i = putU(buf, i, evCommand, e.Command)
	i = putS(buf, i, evSimTime, e.SimTime)
	i = putU(buf, i, evKind, uint64(e.Kind))
	i = putS(buf, i, evAmount, e.Amount)
	i = putU(buf, i, evCurrency, uint64(e.Currency))
	i = putS(buf, i, evBalanceAfter, e.BalanceAfter)
	i = putU(buf, i, evCounterparty, e.Counterparty)
	i = putU(buf, i, evRoute, uint64(e.Route))
	i = putU(buf, i, evReason, uint64(e.Reason))
	i = putU(buf, i, evAttempt, uint64(e.Attempt))
	i = putS(buf, i, evFXRate, e.FXRate)
	i = putS(buf, i, evLatencyUS, e.LatencyUS)
	i = putS(buf, i, evGreenGrams, e.GreenGrams)
	i = putU(buf, i, evProvider, uint64(e.Provider))
	i = putU(buf, i, evRegion, uint64(e.Region))
	i = putU(buf, i, evClass, uint64(e.Class))
	i = putU(buf, i, evFlags, uint64(e.Flags))
	i = putU(buf, i, evEpoch, uint64(e.Epoch))
	i = putU(buf, i, evPeer, uint64(e.Peer))
	i = putU(buf, i, evHops, uint64(e.Hops))
	i = putU(buf, i, evApps, uint64(e.Apps))
	i = putS(buf, i, evReceiptGrams, e.ReceiptGrams)
	i = putU(buf, i, evCard, uint64(e.Card))
	i = putS(buf, i, evTarget, e.Target)
	i = putS(buf, i, evQuotaUsed, e.QuotaUsed)
	i = putS(buf, i, evYearSpent, e.YearSpent)
	i = putS(buf, i, evLifeSpent, e.LifeSpent)
	for k := uint8(0); k < e.NPostings && k < MaxPostings; k++ {
		p := &e.Postings[k]
		// A posting is at most 3 tags + 3 varints: well under 128 bytes,
		// so its length prefix is one byte.
		i = putVarint(buf, i, uint64(evPostings)<<3|uint64(protowire.BytesType))
		at := i
		i++
		i = putU(buf, i, poAccount, uint64(p.Account))
		i = putS(buf, i, poAmount, p.Amount)
		i = putU(buf, i, poCurrency, uint64(p.Currency))
		buf[at] = byte(i - at - 1)
	}
	return b[:o+i]
}

// DecodeEvent fills e from b. It never allocates and never panics; on error
// e holds what was read so far.
func DecodeEvent(b []byte, e *Event) error {
	*e = Event{}
	version := uint64(0)
	for len(b) > 0 {
		// The one-byte tag every field below 16 has, inline: a call per
		// field was most of the decode's cost (the compiler will not inline
		// a function holding the fallback too).
		var num protowire.Number
		var typ protowire.Type
		n := 1
		if t := b[0]; t-8 < 0x78 {
			num, typ = protowire.Number(t>>3), protowire.Type(t&7)
		} else if len(b) > 1 && t >= 0x80 && b[1]-1 < 0x7f {
			// Two bytes: fields 16 to 2047, the postings among them.
			tag := uint64(t&0x7f) | uint64(b[1])<<7
			num, typ, n = protowire.Number(tag>>3), protowire.Type(tag&7), 2
		} else {
			num, typ, n = protowire.ConsumeTag(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad tag", ErrMalformed)
		}
		b = b[n:]
		if num == evPostings && typ == protowire.BytesType {
			// A posting's length is one byte (AppendEvent), inline.
			var v []byte
			if n = -1; len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
				v, n = b[1:1+int(b[0])], 1+int(b[0])
			} else {
				v, n = protowire.ConsumeBytes(b)
			}
			if n < 0 {
				return fmt.Errorf("%w: bad posting", ErrMalformed)
			}
			b = b[n:]
			if e.NPostings >= MaxPostings {
				return fmt.Errorf("%w: more than %d postings", ErrMalformed, MaxPostings)
			}
			if err := decodePosting(v, &e.Postings[e.NPostings]); err != nil {
				return err
			}
			e.NPostings++
			continue
		}
		if typ != protowire.VarintType {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: bad field %d", ErrMalformed, num)
			}
			b = b[n:]
			continue
		}
		var v uint64
		if n = 1; len(b) > 0 && b[0] < 0x80 {
			v = uint64(b[0])
		} else if len(b) > 1 && b[1] < 0x80 {
			v, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
		} else {
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad varint in field %d", ErrMalformed, num)
		}
		b = b[n:]
		switch num {
		case fVersion:
			version = v
		case fType:
			e.Type = Type(v)
		case evID:
			e.ID = v
		case evWallet:
			e.Wallet = v
		case evSeq:
			e.Seq = v
		case evCommand:
			e.Command = v
		case evSimTime:
			e.SimTime = protowire.DecodeZigZag(v)
		case evKind:
			e.Kind = sim.Kind(v)
		case evAmount:
			e.Amount = protowire.DecodeZigZag(v)
		case evCurrency:
			e.Currency = sim.Currency(v)
		case evBalanceAfter:
			e.BalanceAfter = protowire.DecodeZigZag(v)
		case evCounterparty:
			e.Counterparty = v
		case evRoute:
			e.Route = uint16(v)
		case evReason:
			e.Reason = sim.Reason(v)
		case evAttempt:
			e.Attempt = uint8(v)
		case evFXRate:
			e.FXRate = protowire.DecodeZigZag(v)
		case evLatencyUS:
			e.LatencyUS = protowire.DecodeZigZag(v)
		case evGreenGrams:
			e.GreenGrams = protowire.DecodeZigZag(v)
		case evProvider:
			e.Provider = sim.Provider(v)
		case evRegion:
			e.Region = sim.Region(v)
		case evClass:
			e.Class = sim.Class(v)
		case evFlags:
			e.Flags = uint8(v)
		case evEpoch:
			e.Epoch = uint32(v)
		case evPeer:
			e.Peer = sim.Provider(v)
		case evHops:
			e.Hops = uint8(v)
		case evApps:
			e.Apps = uint16(v)
		case evReceiptGrams:
			e.ReceiptGrams = protowire.DecodeZigZag(v)
		case evCard:
			e.Card = sim.Card(v)
		case evTarget:
			e.Target = protowire.DecodeZigZag(v)
		case evQuotaUsed:
			e.QuotaUsed = protowire.DecodeZigZag(v)
		case evYearSpent:
			e.YearSpent = protowire.DecodeZigZag(v)
		case evLifeSpent:
			e.LifeSpent = protowire.DecodeZigZag(v)
		}
	}
	if version != Version {
		return fmt.Errorf("%w %d (this reader speaks %d)", ErrVersion, version, Version)
	}
	return nil
}

func decodePosting(b []byte, p *Posting) error {
	for len(b) > 0 {
		// The one-byte tag every field below 16 has, inline: a call per
		// field was most of the decode's cost (the compiler will not inline
		// a function holding the fallback too).
		var num protowire.Number
		var typ protowire.Type
		n := 1
		if t := b[0]; t-8 < 0x78 {
			num, typ = protowire.Number(t>>3), protowire.Type(t&7)
		} else if len(b) > 1 && t >= 0x80 && b[1]-1 < 0x7f {
			// Two bytes: fields 16 to 2047, the postings among them.
			tag := uint64(t&0x7f) | uint64(b[1])<<7
			num, typ, n = protowire.Number(tag>>3), protowire.Type(tag&7), 2
		} else {
			num, typ, n = protowire.ConsumeTag(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad posting tag", ErrMalformed)
		}
		b = b[n:]
		if typ != protowire.VarintType {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: bad posting field %d", ErrMalformed, num)
			}
			b = b[n:]
			continue
		}
		var v uint64
		if n = 1; len(b) > 0 && b[0] < 0x80 {
			v = uint64(b[0])
		} else if len(b) > 1 && b[1] < 0x80 {
			v, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
		} else {
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad posting varint", ErrMalformed)
		}
		b = b[n:]
		switch num {
		case poAccount:
			p.Account = Account(v)
		case poAmount:
			p.Amount = protowire.DecodeZigZag(v)
		case poCurrency:
			p.Currency = sim.Currency(v)
		}
	}
	return nil
}

// AppendCommand appends c's encoding to b.
func AppendCommand(b []byte, c *Command) []byte {
	b = slices.Grow(b, maxRecord)
	o := len(b)
	buf := b[o : o+maxRecord]
	i := 0
	i = putU(buf, i, fVersion, Version)
	i = putU(buf, i, fType, uint64(c.Type))
	i = putU(buf, i, cmID, c.ID)
	i = putU(buf, i, cmWallet, c.Wallet)
	i = putS(buf, i, cmSimTime, c.SimTime)
	i = putU(buf, i, cmEpoch, uint64(c.Epoch))
	i = putU(buf, i, cmKind, uint64(c.Kind))
	i = putS(buf, i, cmAmount, c.Amount)
	i = putU(buf, i, cmCurrency, uint64(c.Currency))
	i = putU(buf, i, cmCounterparty, c.Counterparty)
	i = putU(buf, i, cmAcceptors, uint64(c.Acceptors))
	i = putU(buf, i, cmAccRegion, uint64(c.AccRegion))
	if c.Static {
		i = putU(buf, i, cmStatic, 1)
	}
	if n := c.NCandidates; n > 0 {
		if n > MaxCandidates {
			n = MaxCandidates
		}
		size := 0
		for _, w := range c.Candidates[:n] {
			size += protowire.SizeVarint(w)
		}
		i = putVarint(buf, i, uint64(cmCandidates)<<3|uint64(protowire.BytesType))
		i = putVarint(buf, i, uint64(size))
		for _, w := range c.Candidates[:n] {
			i = putVarint(buf, i, w)
		}
	}
	i = putU(buf, i, cmAttempt, uint64(c.Attempt))
	if c.AllUnaccepted {
		i = putU(buf, i, cmAllUnaccepted, 1)
	}
	i = putU(buf, i, cmLastReason, uint64(c.LastReason))
	i = putU(buf, i, cmProvider, uint64(c.Provider))
	i = putU(buf, i, cmRegion, uint64(c.Region))
	i = putU(buf, i, cmClass, uint64(c.Class))
	i = putU(buf, i, cmRoute, uint64(c.Route))
	i = putS(buf, i, cmHeldAmount, c.HeldAmount)
	i = putU(buf, i, cmHeldCurrency, uint64(c.HeldCurrency))
	i = putS(buf, i, cmFXRate, c.FXRate)
	i = putU(buf, i, cmReason, uint64(c.Reason))
	i = putS(buf, i, cmSource, int64(c.Source))
	i = putU(buf, i, cmCount, uint64(c.Count))
	i = putU(buf, i, cmTotal, uint64(c.Total))
	if c.Last {
		i = putU(buf, i, cmLast, 1)
	}
	i = putU(buf, i, cmPeer, uint64(c.Peer))
	i = putU(buf, i, cmApps, uint64(c.Apps))
	if c.EReceipt {
		i = putU(buf, i, cmEReceipt, 1)
	}
	if c.Idem != ([16]byte{}) {
		i = putVarint(buf, i, uint64(cmIdem)<<3|uint64(protowire.BytesType))
		i = putVarint(buf, i, uint64(len(c.Idem)))
		i += copy(buf[i:], c.Idem[:])
	}
	i = putU(buf, i, cmPayeeSibling, c.PayeeSibling)
	i = putU(buf, i, cmCard, uint64(c.Card))
	i = putS(buf, i, cmTarget, c.Target)
	i = putS(buf, i, cmQuotaUsed, c.QuotaUsed)
	if c.CardFirst {
		i = putU(buf, i, cmCardFirst, 1)
	}
	if c.Rebalance {
		i = putU(buf, i, cmRebalance, 1)
	}
	i = putU(buf, i, cmTier, uint64(c.Tier))
	if c.HeldCard {
		i = putU(buf, i, cmHeldCard, 1)
	}
	i = putS(buf, i, cmYearSpent, c.YearSpent)
	i = putS(buf, i, cmLifeSpent, c.LifeSpent)
	return b[:o+i]
}

// DecodeCommand fills c from b without allocating.
func DecodeCommand(b []byte, c *Command) error {
	*c = Command{}
	version := uint64(0)
	for len(b) > 0 {
		// The one-byte tag every field below 16 has, inline: a call per
		// field was most of the decode's cost (the compiler will not inline
		// a function holding the fallback too).
		var num protowire.Number
		var typ protowire.Type
		n := 1
		if t := b[0]; t-8 < 0x78 {
			num, typ = protowire.Number(t>>3), protowire.Type(t&7)
		} else if len(b) > 1 && t >= 0x80 && b[1]-1 < 0x7f {
			// Two bytes: fields 16 to 2047, the postings among them.
			tag := uint64(t&0x7f) | uint64(b[1])<<7
			num, typ, n = protowire.Number(tag>>3), protowire.Type(tag&7), 2
		} else {
			num, typ, n = protowire.ConsumeTag(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad tag", ErrMalformed)
		}
		b = b[n:]
		if num == cmCandidates && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return fmt.Errorf("%w: bad candidates", ErrMalformed)
			}
			b = b[n:]
			for len(v) > 0 {
				w, n := consumeVarint(v)
				if n < 0 {
					return fmt.Errorf("%w: bad candidate", ErrMalformed)
				}
				v = v[n:]
				if c.NCandidates >= MaxCandidates {
					return fmt.Errorf("%w: more than %d candidates", ErrMalformed, MaxCandidates)
				}
				c.Candidates[c.NCandidates] = w
				c.NCandidates++
			}
			continue
		}
		if num == cmIdem && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || len(v) != len(c.Idem) {
				return fmt.Errorf("%w: bad idempotency key hash", ErrMalformed)
			}
			copy(c.Idem[:], v)
			b = b[n:]
			continue
		}
		if typ != protowire.VarintType {
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("%w: bad field %d", ErrMalformed, num)
			}
			b = b[n:]
			continue
		}
		var v uint64
		if n = 1; len(b) > 0 && b[0] < 0x80 {
			v = uint64(b[0])
		} else if len(b) > 1 && b[1] < 0x80 {
			v, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
		} else {
			v, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad varint in field %d", ErrMalformed, num)
		}
		b = b[n:]
		switch num {
		case fVersion:
			version = v
		case fType:
			c.Type = CommandType(v)
		case cmID:
			c.ID = v
		case cmWallet:
			c.Wallet = v
		case cmSimTime:
			c.SimTime = protowire.DecodeZigZag(v)
		case cmEpoch:
			c.Epoch = uint32(v)
		case cmKind:
			c.Kind = sim.Kind(v)
		case cmAmount:
			c.Amount = protowire.DecodeZigZag(v)
		case cmCurrency:
			c.Currency = sim.Currency(v)
		case cmCounterparty:
			c.Counterparty = v
		case cmAcceptors:
			c.Acceptors = uint16(v)
		case cmAccRegion:
			c.AccRegion = sim.Region(v)
		case cmStatic:
			c.Static = v != 0
		case cmAttempt:
			c.Attempt = uint8(v)
		case cmAllUnaccepted:
			c.AllUnaccepted = v != 0
		case cmLastReason:
			c.LastReason = sim.Reason(v)
		case cmProvider:
			c.Provider = sim.Provider(v)
		case cmRegion:
			c.Region = sim.Region(v)
		case cmClass:
			c.Class = sim.Class(v)
		case cmRoute:
			c.Route = uint16(v)
		case cmHeldAmount:
			c.HeldAmount = protowire.DecodeZigZag(v)
		case cmHeldCurrency:
			c.HeldCurrency = sim.Currency(v)
		case cmFXRate:
			c.FXRate = protowire.DecodeZigZag(v)
		case cmReason:
			c.Reason = sim.Reason(v)
		case cmSource:
			c.Source = int32(protowire.DecodeZigZag(v))
		case cmCount:
			c.Count = uint32(v)
		case cmTotal:
			c.Total = uint32(v)
		case cmLast:
			c.Last = v != 0
		case cmPeer:
			c.Peer = sim.Provider(v)
		case cmApps:
			c.Apps = uint16(v)
		case cmEReceipt:
			c.EReceipt = v != 0
		case cmPayeeSibling:
			c.PayeeSibling = v
		case cmCard:
			c.Card = sim.Card(v)
		case cmTarget:
			c.Target = protowire.DecodeZigZag(v)
		case cmQuotaUsed:
			c.QuotaUsed = protowire.DecodeZigZag(v)
		case cmYearSpent:
			c.YearSpent = protowire.DecodeZigZag(v)
		case cmLifeSpent:
			c.LifeSpent = protowire.DecodeZigZag(v)
		case cmCardFirst:
			c.CardFirst = v != 0
		case cmRebalance:
			c.Rebalance = v != 0
		case cmTier:
			c.Tier = sim.Tier(v)
		case cmHeldCard:
			c.HeldCard = v != 0
		}
	}
	if version != Version {
		return fmt.Errorf("%w %d (this reader speaks %d)", ErrVersion, version, Version)
	}
	return nil
}
