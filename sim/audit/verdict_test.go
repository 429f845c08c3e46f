package audit

import (
	"reflect"
	"strings"
	"testing"
)

// Every field of Invariants must be able to fail the verdict: a counter
// added to the struct but not to Counts would be recorded and ignored.
func TestVerdictEachViolationFails(t *testing.T) {
	clean := Invariants{MoneyConserved: true}
	if !clean.OK() || len(clean.Violations()) != 0 {
		t.Fatalf("clean invariants: OK %v, violations %v", clean.OK(), clean.Violations())
	}
	typ := reflect.TypeOf(clean)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		inv := clean
		v := reflect.ValueOf(&inv).Elem().Field(i)
		switch f.Name {
		case "MoneyConserved":
			v.SetBool(false)
		case "ExternalIn", "Held":
			continue // totals, not violations
		default:
			switch v.Kind() {
			case reflect.Int64:
				v.SetInt(1)
			case reflect.Map:
				v.Set(reflect.ValueOf(map[string]int64{"CNY": 1}))
			default:
				t.Fatalf("field %s of kind %s: the verdict test does not know it", f.Name, v.Kind())
			}
		}
		if inv.OK() {
			t.Errorf("%s set: OK() is true", f.Name)
		}
		vs := strings.Join(inv.Violations(), "; ")
		want := name
		if f.Name == "MoneyConserved" {
			want = "money not conserved"
		}
		if !strings.Contains(vs, want) {
			t.Errorf("%s set: violations %q do not name %q", f.Name, vs, want)
		}
	}
}
