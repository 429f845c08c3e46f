package run

import "testing"

func TestIdentityOf(t *testing.T) {
	o := load(t, 100, 3)
	id := IdentityOf([]byte("scenario bytes"), o.Scenario, o.PolicyName)
	if id.Seed != 3 || id.Policy != o.PolicyName || id.ScenarioSHA256 == "" || id.PolicySHA256 == "" || id.Version == "" || id.EpochMS != o.Scenario.EpochMS {
		t.Fatalf("%+v", id)
	}
	if other := IdentityOf([]byte("other bytes"), o.Scenario, o.PolicyName); len(other.Diff(id)) != 1 || other.Diff(id)[0].Key != "scenario_sha256" {
		t.Errorf("other scenario bytes: diff %+v", other.Diff(id))
	}
	if IdentityOf(nil, o.Scenario, o.PolicyName).ScenarioSHA256 != "" {
		t.Error("no bytes, yet a scenario hash")
	}
}
