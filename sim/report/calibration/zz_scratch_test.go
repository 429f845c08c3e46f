package calibration
import ("os";"testing";"github.com/walletsim/walletsim/scenarios")
func TestScratch(t *testing.T){
	for _, name := range scenarios.Builtins("") {
	sc := compiledS(t, name, os.Getenv("SCALE"))
	rep, err := Measure(sc).Report(sc, Config{}); if err != nil { t.Fatal(err) }
	t.Logf("%s: %s", name, rep.Counts())
	rep.WriteSummary(os.Stdout, "")
	}
}
