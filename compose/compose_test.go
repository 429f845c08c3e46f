// Package compose holds the docker-compose stack (compose/docker-compose.yml)
// and its test. The test cannot start Docker here; it checks what would
// break the stack silently: missing services, a KRaft quorum that does not
// add up, workers outside one group, walletsim flags that do not exist,
// Prometheus not scraping the ports the processes serve, and Grafana not
// provisioned with the datasource the dashboards name.
package compose

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/internal/testbin"
	"go.yaml.in/yaml/v3"
)

type service struct {
	Image       string            `yaml:"image"`
	Build       map[string]string `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]any    `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Profiles    []string          `yaml:"profiles"`
	Deploy      struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
}

func load(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func env(s service, k string) string { return fmt.Sprint(s.Environment[k]) }

// flags returns the --name flags of a command line, and its subcommand.
func flags(cmd []string) (sub string, names []string) {
	for _, a := range cmd {
		switch {
		case strings.HasPrefix(a, "--"):
			n, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			names = append(names, n)
		case sub == "":
			sub = a
		}
	}
	return sub, names
}

func flagValue(cmd []string, name string) string {
	for _, a := range cmd {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func TestKafkaKRaftCluster(t *testing.T) {
	c := load(t)
	var brokers []string
	ids := map[string]string{}
	for name, s := range c.Services {
		if !strings.HasPrefix(s.Image, "apache/kafka:") {
			continue
		}
		// A current 4.x: 3.9 was pinned on the belief that kafka-go could
		// not talk to Kafka 4; 4.0.0 lacked JoinGroup v0/v1 (KAFKA-19444).
		if v := strings.TrimPrefix(s.Image, "apache/kafka:"); !regexp.MustCompile(`^4\.([1-9]|0\.[1-9])`).MatchString(v) {
			t.Errorf("%s: image %s, want a current Kafka 4.x (4.0.1 or later)", name, s.Image)
		}
		brokers = append(brokers, name)
		if roles := env(s, "KAFKA_PROCESS_ROLES"); !strings.Contains(roles, "broker") || !strings.Contains(roles, "controller") {
			t.Errorf("%s: KAFKA_PROCESS_ROLES %q, want broker,controller (KRaft, no ZooKeeper)", name, roles)
		}
		id := env(s, "KAFKA_NODE_ID")
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share KAFKA_NODE_ID %s", name, other, id)
		}
		ids[id] = name
		if adv := env(s, "KAFKA_ADVERTISED_LISTENERS"); !strings.Contains(adv, "//"+name+":9092") {
			t.Errorf("%s: advertised listeners %q do not name the service itself", name, adv)
		}
		if env(s, "CLUSTER_ID") == "<nil>" {
			t.Errorf("%s: no CLUSTER_ID (KRaft storage needs one)", name)
		}
		if rf, _ := strconv.Atoi(env(s, "KAFKA_DEFAULT_REPLICATION_FACTOR")); rf != 3 {
			t.Errorf("%s: default replication factor %d, want 3", name, rf)
		}
	}
	slices.Sort(brokers)
	if !slices.Equal(brokers, []string{"kafka-1", "kafka-2", "kafka-3"}) {
		t.Fatalf("Kafka brokers %v, want kafka-1..3", brokers)
	}
	// The quorum names every broker's node ID, host and controller port.
	voters := strings.Split(env(c.Services["kafka-1"], "KAFKA_CONTROLLER_QUORUM_VOTERS"), ",")
	if len(voters) != 3 {
		t.Fatalf("quorum voters %v, want 3", voters)
	}
	for _, v := range voters {
		id, hostport, ok := strings.Cut(v, "@")
		host, port, err := net.SplitHostPort(hostport)
		if !ok || err != nil || ids[id] != host || port != "9093" {
			t.Errorf("quorum voter %q does not match a broker (node IDs %v)", v, ids)
		}
	}
}

func TestWalletsimServices(t *testing.T) {
	c := load(t)
	for _, name := range []string{"serve", "worker", "producer", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	w := c.Services["worker"]
	if w.Deploy.Replicas < 2 {
		t.Errorf("worker replicas %d, want at least 2 sharing the partitions", w.Deploy.Replicas)
	}
	if sub, _ := flags(w.Command); sub != "worker" {
		t.Errorf("worker runs %q, want walletsim worker", sub)
	}
	// The replicas share one command line, hence one consumer group; the
	// producer must write the topics they read.
	p := c.Services["producer"]
	if flagValue(p.Command, "workers") != "external" {
		t.Errorf("producer command %v lacks --workers=external", p.Command)
	}
	if flagValue(p.Command, "topic-prefix") != flagValue(w.Command, "topic-prefix") {
		t.Errorf("producer and workers use different topic prefixes")
	}
	if flagValue(p.Command, "partitions") != flagValue(w.Command, "partitions") {
		t.Errorf("producer --partitions %q, workers %q", flagValue(p.Command, "partitions"), flagValue(w.Command, "partitions"))
	}
	for name, s := range c.Services {
		if s.Image != "walletsim:local" {
			continue
		}
		if s.Build["context"] != ".." || s.Build["dockerfile"] != "Dockerfile" {
			t.Errorf("%s: build %v, want the repository root and its Dockerfile", name, s.Build)
		}
		if b := flagValue(s.Command, "brokers"); strings.Count(b, ",") != 2 {
			t.Errorf("%s: --brokers %q, want all three brokers", name, b)
		}
		if a := flagValue(s.Command, "metrics-addr"); a != "0.0.0.0:9100" {
			t.Errorf("%s: --metrics-addr %q, want 0.0.0.0:9100 (what Prometheus scrapes)", name, a)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "Dockerfile")); err != nil {
		t.Errorf("Dockerfile: %v", err)
	}
}

// Every walletsim command line in the stack parses: its subcommand exists
// and has each flag given (checked against the binary's own --help).
func TestCommandsExist(t *testing.T) {
	c := load(t)
	bin := testbin.Path(t)
	for name, s := range c.Services {
		if s.Image != "walletsim:local" {
			continue
		}
		sub, names := flags(s.Command)
		out, err := exec.Command(bin, sub, "--help").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "walletsim "+sub) {
			t.Errorf("%s: walletsim %s --help: %v\n%s", name, sub, err, out)
			continue
		}
		for _, f := range names {
			if regexp.MustCompile(`--` + regexp.QuoteMeta(f) + `\b`).Match(out) {
				continue
			}
			t.Errorf("%s: walletsim %s has no flag --%s", name, sub, f)
		}
	}
}

func TestPrometheusScrapesEveryProcess(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			for _, tg := range s.Targets {
				scraped[tg] = true
			}
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				scraped[n+":"+strconv.Itoa(d.Port)] = true
			}
		}
	}
	c := load(t)
	for name, s := range c.Services {
		if s.Image != "walletsim:local" {
			continue
		}
		_, port, _ := net.SplitHostPort(flagValue(s.Command, "metrics-addr"))
		if !scraped[name+":"+port] {
			t.Errorf("Prometheus does not scrape %s:%s (scrapes %v)", name, port, scraped)
		}
	}
	if !slices.Contains(c.Services["prometheus"].Volumes, "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro") {
		t.Errorf("prometheus does not mount prometheus/prometheus.yml: %v", c.Services["prometheus"].Volumes)
	}
}

func TestGrafanaProvisioned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("grafana", "provisioning", "datasources", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Datasources []struct {
			UID, Type, URL string
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].UID != "walletsim-prometheus" || ds.Datasources[0].URL != "http://prometheus:9090" {
		t.Errorf("datasource %+v, want uid walletsim-prometheus at http://prometheus:9090", ds.Datasources)
	}
	// Every dashboard panel names that datasource uid.
	files, _ := filepath.Glob(filepath.Join("..", "dashboards", "*.json"))
	if len(files) < 4 {
		t.Errorf("dashboards: %d files, want 4", len(files))
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var d struct {
			Panels []struct {
				Datasource struct{ UID string } `json:"datasource"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			if p.Datasource.UID != ds.Datasources[0].UID {
				t.Errorf("%s: a panel uses datasource %q", f, p.Datasource.UID)
			}
		}
	}
	b, err = os.ReadFile(filepath.Join("grafana", "provisioning", "dashboards", "walletsim.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	g := load(t).Services["grafana"]
	if len(prov.Providers) != 1 || !slices.Contains(g.Volumes, "../dashboards:"+prov.Providers[0].Options.Path+":ro") {
		t.Errorf("grafana mounts %v; provider reads %+v: the dashboards/ directory must be mounted where the provider reads", g.Volumes, prov.Providers)
	}
	if !slices.Contains(g.Volumes, "./grafana/provisioning:/etc/grafana/provisioning:ro") {
		t.Errorf("grafana does not mount its provisioning: %v", g.Volumes)
	}
}
