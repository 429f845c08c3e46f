package sim

import (
	"fmt"
	"time"
)

// Operator is a Hong Kong transit operator (cal:transit.riders-2019).
type Operator uint8

// Operators.
const (
	OperatorNone Operator = iota
	MTR
	KMB
	LongWin
	NewLantao
	Citybus
	Tramways
	StarFerry
	NumOperators
)

var operatorNames = [NumOperators]string{"", "mtr", "kmb", "long_win", "new_lantao", "citybus", "tramways", "star_ferry"}

func (o Operator) String() string {
	if o < NumOperators {
		return operatorNames[o]
	}
	return fmt.Sprintf("operator(%d)", uint8(o))
}

// Valid reports whether o names a real operator.
func (o Operator) Valid() bool { return o > OperatorNone && o < NumOperators }

// ParseOperator maps a name to an Operator.
func ParseOperator(s string) (Operator, error) {
	for i := Operator(1); i < NumOperators; i++ {
		if operatorNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown transit operator %q (want one of %v)", s, operatorNames[1:])
}

// Operators lists every operator.
func Operators() []Operator {
	out := make([]Operator, 0, NumOperators-1)
	for o := Operator(1); o < NumOperators; o++ {
		out = append(out, o)
	}
	return out
}

// FareModel says how a fare is drawn.
type FareModel uint8

// Fare models.
const (
	FareDistance FareModel = iota + 1 // MTR: a distance band drawn from a lognormal
	FareBus                           // buses: lognormal within a range
	FareFlat                          // tram, ferry: flat, with a weekend fare
)

// Fare is an operator's fare model, in HKD cents. Figures from
// cal:defaults.fare-mtr, cal:defaults.fare-bus, cal:defaults.fare-tram-ferry.
type Fare struct {
	Model         FareModel
	MedianCents   int64   // lognormal median (distance and bus)
	Sigma         float64 // lognormal sigma
	MinCents      int64
	MaxCents      int64
	FlatCents     int64 // flat fare (weekday)
	WeekendCents  int64 // flat fare on Saturday and Sunday; 0 = same as weekday
	BandCents     int64 // MTR: fares are rounded to distance bands of this width
	DailyRidersK  int64 // thousands of daily riders: the ridership share
	GreenGrams    int64 // Ant Forest green-energy grams per ride (bus 80, metro 52)
	QRSinceYYYYMM int   // when the operator started taking wallet QR codes
}

// DefaultFares is the fare table of cal:defaults.fare-mtr, cal:defaults.fare-bus, cal:defaults.fare-tram-ferry and cal:defaults.daily-riders.
var DefaultFares = [NumOperators]Fare{
	// calibration: MTR fare lognormal median HK$11, sigma 0.35, range 4-60; riders 4.9M; QR since 2021-01
	MTR: {Model: FareDistance, MedianCents: 1100, Sigma: 0.35, MinCents: 400, MaxCents: 6000, BandCents: 10, DailyRidersK: 4900, GreenGrams: 52, QRSinceYYYYMM: 202101},
	// calibration: Bus fare median HK$7, range 3-50; KMB 2.6M riders; QR since 2022-02
	KMB: {Model: FareBus, MedianCents: 700, Sigma: 0.45, MinCents: 300, MaxCents: 5000, DailyRidersK: 2600, GreenGrams: 80, QRSinceYYYYMM: 202202},
	// calibration: Long Win 0.11M riders (airport routes, higher fares)
	LongWin: {Model: FareBus, MedianCents: 1400, Sigma: 0.45, MinCents: 300, MaxCents: 5000, DailyRidersK: 110, GreenGrams: 80, QRSinceYYYYMM: 202202},
	// calibration: New Lantao 0.09M riders; wallets from 2024-04
	NewLantao: {Model: FareBus, MedianCents: 1100, Sigma: 0.45, MinCents: 300, MaxCents: 5000, DailyRidersK: 90, GreenGrams: 80, QRSinceYYYYMM: 202404},
	// calibration: Citybus (merged) 1.0M riders; wallets from 2024-04
	Citybus: {Model: FareBus, MedianCents: 700, Sigma: 0.45, MinCents: 300, MaxCents: 5000, DailyRidersK: 1000, GreenGrams: 80, QRSinceYYYYMM: 202404},
	// cal:transit.fare-tram HK$3.0 flat from 2022 (HK$3.3 from 12 May 2025: FareChanges); 0.16M riders
	Tramways: {Model: FareFlat, FlatCents: 300, DailyRidersK: 160, GreenGrams: 52, QRSinceYYYYMM: 202404},
	// calibration: Star Ferry weekday HK$5.0, weekend HK$6.5; 0.05M riders
	StarFerry: {Model: FareFlat, FlatCents: 500, WeekendCents: 650, DailyRidersK: 50, GreenGrams: 52, QRSinceYYYYMM: 202404},
}

// FareChange is a dated change to an operator's flat fares: from FromMS
// (unix ms) on, the operator charges FlatCents (and WeekendCents when set).
type FareChange struct {
	Operator     Operator
	FromMS       int64
	FlatCents    int64
	WeekendCents int64
}

// FareChanges are the dated fare changes of calibration.md section 5, in
// date order. A scenario's fares are those of its own date.
var FareChanges = []FareChange{
	// cal:transit.fare-tram: HK$3.3 from 12 May 2025 (HK$3.0 before).
	{Operator: Tramways, FromMS: time.Date(2025, 5, 12, 0, 0, 0, 0, time.FixedZone("HKT", 8*3600)).UnixMilli(), FlatCents: 330},
}

// FareAt is operator o's fare model on date t (unix ms): DefaultFares with
// every change dated on or before t applied.
func FareAt(o Operator, t int64) Fare {
	if o >= NumOperators {
		return Fare{}
	}
	f := DefaultFares[o]
	for _, ch := range FareChanges {
		if ch.Operator == o && t >= ch.FromMS {
			f.FlatCents = ch.FlatCents
			if ch.WeekendCents > 0 {
				f.WeekendCents = ch.WeekendCents
			}
		}
	}
	return f
}
