package event

import (
	"errors"
	"fmt"

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

func appendU(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	if num < 16 && v < 0x80 { // most fields: a one-byte tag and value
		return append(b, byte(num)<<3, byte(v))
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// consumeVarint is the varint read of the candidate lists; the decode
// loops inline its one-byte fast path themselves.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

func appendS(b []byte, num protowire.Number, v int64) []byte {
	if v == 0 {
		return b
	}
	if z := protowire.EncodeZigZag(v); num < 16 && z < 0x80 {
		return append(b, byte(num)<<3, byte(z))
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeZigZag(v))
}

// AppendEvent appends e's encoding to b.
func AppendEvent(b []byte, e *Event) []byte {
	b = appendU(b, fVersion, Version)
	b = appendU(b, fType, uint64(e.Type))
	b = appendU(b, evID, e.ID)
	b = appendU(b, evWallet, e.Wallet)
	b = appendU(b, evSeq, e.Seq)
	b = appendU(b, evCommand, e.Command)
	b = appendS(b, evSimTime, e.SimTime)
	b = appendU(b, evKind, uint64(e.Kind))
	b = appendS(b, evAmount, e.Amount)
	b = appendU(b, evCurrency, uint64(e.Currency))
	b = appendS(b, evBalanceAfter, e.BalanceAfter)
	b = appendU(b, evCounterparty, e.Counterparty)
	b = appendU(b, evRoute, uint64(e.Route))
	b = appendU(b, evReason, uint64(e.Reason))
	b = appendU(b, evAttempt, uint64(e.Attempt))
	b = appendS(b, evFXRate, e.FXRate)
	b = appendS(b, evLatencyUS, e.LatencyUS)
	b = appendS(b, evGreenGrams, e.GreenGrams)
	b = appendU(b, evProvider, uint64(e.Provider))
	b = appendU(b, evRegion, uint64(e.Region))
	b = appendU(b, evClass, uint64(e.Class))
	b = appendU(b, evFlags, uint64(e.Flags))
	b = appendU(b, evEpoch, uint64(e.Epoch))
	b = appendU(b, evPeer, uint64(e.Peer))
	b = appendU(b, evHops, uint64(e.Hops))
	b = appendU(b, evApps, uint64(e.Apps))
	b = appendS(b, evReceiptGrams, e.ReceiptGrams)
	b = appendU(b, evCard, uint64(e.Card))
	b = appendS(b, evTarget, e.Target)
	b = appendS(b, evQuotaUsed, e.QuotaUsed)
	b = appendS(b, evYearSpent, e.YearSpent)
	b = appendS(b, evLifeSpent, e.LifeSpent)
	for i := uint8(0); i < e.NPostings && i < MaxPostings; i++ {
		p := &e.Postings[i]
		// A posting is at most 3 tags + 3 varints: well under 128 bytes,
		// so its length prefix is one byte.
		b = protowire.AppendTag(b, evPostings, protowire.BytesType)
		at := len(b)
		b = append(b, 0)
		b = appendU(b, poAccount, uint64(p.Account))
		b = appendS(b, poAmount, p.Amount)
		b = appendU(b, poCurrency, uint64(p.Currency))
		b[at] = byte(len(b) - at - 1)
	}
	return b
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
		} else {
			num, typ, n = protowire.ConsumeTag(b)
		}
		if n < 0 {
			return fmt.Errorf("%w: bad tag", ErrMalformed)
		}
		b = b[n:]
		if num == evPostings && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
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
	b = appendU(b, fVersion, Version)
	b = appendU(b, fType, uint64(c.Type))
	b = appendU(b, cmID, c.ID)
	b = appendU(b, cmWallet, c.Wallet)
	b = appendS(b, cmSimTime, c.SimTime)
	b = appendU(b, cmEpoch, uint64(c.Epoch))
	b = appendU(b, cmKind, uint64(c.Kind))
	b = appendS(b, cmAmount, c.Amount)
	b = appendU(b, cmCurrency, uint64(c.Currency))
	b = appendU(b, cmCounterparty, c.Counterparty)
	b = appendU(b, cmAcceptors, uint64(c.Acceptors))
	b = appendU(b, cmAccRegion, uint64(c.AccRegion))
	if c.Static {
		b = appendU(b, cmStatic, 1)
	}
	if n := c.NCandidates; n > 0 {
		if n > MaxCandidates {
			n = MaxCandidates
		}
		size := 0
		for _, w := range c.Candidates[:n] {
			size += protowire.SizeVarint(w)
		}
		b = protowire.AppendTag(b, cmCandidates, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(size))
		for _, w := range c.Candidates[:n] {
			b = protowire.AppendVarint(b, w)
		}
	}
	b = appendU(b, cmAttempt, uint64(c.Attempt))
	if c.AllUnaccepted {
		b = appendU(b, cmAllUnaccepted, 1)
	}
	b = appendU(b, cmLastReason, uint64(c.LastReason))
	b = appendU(b, cmProvider, uint64(c.Provider))
	b = appendU(b, cmRegion, uint64(c.Region))
	b = appendU(b, cmClass, uint64(c.Class))
	b = appendU(b, cmRoute, uint64(c.Route))
	b = appendS(b, cmHeldAmount, c.HeldAmount)
	b = appendU(b, cmHeldCurrency, uint64(c.HeldCurrency))
	b = appendS(b, cmFXRate, c.FXRate)
	b = appendU(b, cmReason, uint64(c.Reason))
	b = appendS(b, cmSource, int64(c.Source))
	b = appendU(b, cmCount, uint64(c.Count))
	b = appendU(b, cmTotal, uint64(c.Total))
	if c.Last {
		b = appendU(b, cmLast, 1)
	}
	b = appendU(b, cmPeer, uint64(c.Peer))
	b = appendU(b, cmApps, uint64(c.Apps))
	if c.EReceipt {
		b = appendU(b, cmEReceipt, 1)
	}
	if c.Idem != ([16]byte{}) {
		b = protowire.AppendTag(b, cmIdem, protowire.BytesType)
		b = protowire.AppendBytes(b, c.Idem[:])
	}
	b = appendU(b, cmPayeeSibling, c.PayeeSibling)
	b = appendU(b, cmCard, uint64(c.Card))
	b = appendS(b, cmTarget, c.Target)
	b = appendS(b, cmQuotaUsed, c.QuotaUsed)
	if c.CardFirst {
		b = appendU(b, cmCardFirst, 1)
	}
	if c.Rebalance {
		b = appendU(b, cmRebalance, 1)
	}
	b = appendU(b, cmTier, uint64(c.Tier))
	if c.HeldCard {
		b = appendU(b, cmHeldCard, 1)
	}
	b = appendS(b, cmYearSpent, c.YearSpent)
	b = appendS(b, cmLifeSpent, c.LifeSpent)
	return b
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
