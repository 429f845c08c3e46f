package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestAttribution: under two policies on one seed, the attributed changes
// account for every payment whose outcome differs (gained minus lost is
// the difference in succeeded payments of the real runs on Kafka), every
// breakdown adds up to the same, and each gained payment names the rule
// that accepted it.
func TestAttribution(t *testing.T) {
	sc := quickstart(t, 6000, 7)
	a, b := policy(t, "telco-2023"), policy(t, "unionpay-open-2024")
	c, err := Run(context.Background(), Options{Scenario: sc, Policies: []Policy{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	at, err := Attribute(sc, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := at.Check(c); err != nil {
		t.Fatal(err)
	}
	diff := c.Results[1].Payments.Succeeded - c.Results[0].Payments.Succeeded
	var gained, lost int64
	for _, ch := range at.Changes {
		var kinds int64
		for _, n := range ch.ByKind {
			kinds += n
		}
		if kinds != ch.Count {
			t.Errorf("change %v -> %v: kinds add to %d of %d", ch.A, ch.B, kinds, ch.Count)
		}
		switch ch.Effect {
		case "gained":
			gained += ch.Count
			if ch.B.Outcome != "succeeded" || ch.A.Outcome == "succeeded" || ch.B.Rule == "none" {
				t.Errorf("gained payments decided %v -> %v", ch.A, ch.B)
			}
		case "lost":
			lost += ch.Count
			if ch.A.Outcome != "succeeded" || ch.B.Outcome == "succeeded" || ch.A.Rule == "none" {
				t.Errorf("lost payments decided %v -> %v", ch.A, ch.B)
			}
		}
	}
	if gained != at.Gained || lost != at.Lost || gained-lost != diff || diff == 0 {
		t.Fatalf("changes: %d gained, %d lost (report %d, %d); the runs differ by %d succeeded", gained, lost, at.Gained, at.Lost, diff)
	}
	for name, bds := range map[string][]Breakdown{"kind": at.ByKind, "direction": at.ByDirection, "provider": at.ByProvider, "merchant size": at.ByMerchantSize} {
		var g, l, n int64
		for _, bd := range bds {
			g, l, n = g+bd.Gained, l+bd.Lost, n+bd.Payments
		}
		if g != at.Gained || l != at.Lost || n != at.Payments {
			t.Errorf("by %s: %d gained, %d lost over %d payments; want %d, %d, %d", name, g, l, n, at.Gained, at.Lost, at.Payments)
		}
	}
	// Every rule a change names is cited with the calibration row behind it.
	for _, ch := range at.Changes {
		for i, side := range []Side{ch.A, ch.B} {
			if side.Rule == "none" {
				continue
			}
			found := false
			for _, r := range at.Rules {
				found = found || r.Policy == []string{at.A, at.B}[i] && r.Rule == side.Rule && r.Note != ""
			}
			if !found {
				t.Errorf("rule %s of %s is not cited with its note", side.Rule, []string{at.A, at.B}[i])
			}
		}
	}
	if at.Consumers.Rose == 0 || at.Consumers.Total == 0 {
		t.Errorf("no consumer gained: %+v", at.Consumers)
	}
	// The real runs are what the attribution must explain: a comparison
	// of other counts is refused.
	bad := *c
	bad.Results = append([]Result{}, c.Results...)
	bad.Results[1].Payments.Succeeded++
	if err := at.Check(&bad); err == nil {
		t.Fatal("an attribution that does not add up to the runs passed Check")
	}
	dir := t.TempDir()
	if _, err := at.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "attribution.json"))
	var back Attribution
	if err := json.Unmarshal(raw, &back); err != nil || back.Net != diff {
		t.Fatalf("attribution.json: %v, net %d", err, back.Net)
	}
	c.Attribution = at
	if _, err := c.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "compare.html"))
	for _, want := range []string{`id="attribution"`, "Who gains: telco-2023 to unionpay-open-2024", "By region and direction", "Merchants and consumers"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("compare.html lacks %q", want)
		}
	}
}
