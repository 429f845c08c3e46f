package bus_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
)

// TestTopicSettingsReadBack creates topics on the embedded broker and
// reads their settings back with DescribeConfigs: the source-of-truth
// topics keep their records forever (or for --retention), the identity
// topic is compacted, and replication fits the one-broker cluster.
func TestTopicSettingsReadBack(t *testing.T) {
	b, err := embedded.Start(embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name      string
		cfg       bus.Config
		compact   bool
		retention string
	}{
		{"forever", bus.Config{}, false, "-1"},
		{"retention flag", bus.Config{Retention: 72 * time.Hour}, false, "259200000"},
		{"explicit replication", bus.Config{ReplicationFactor: 1, MinInsyncReplicas: 1}, false, "-1"},
		{"compacted", bus.Config{}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Brokers = []string{b.Addr()}
			c, err := bus.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			topic := "settings." + strings.ReplaceAll(tc.name, " ", "-")
			settings := c.Retained()
			if tc.compact {
				settings = c.Compacted()
			}
			if err := c.EnsureTopicsWith(ctx, 2, settings, topic); err != nil {
				t.Fatal(err)
			}
			got, err := c.TopicConfigs(ctx, topic)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"cleanup.policy": "delete", "retention.ms": tc.retention, "min.insync.replicas": "1"}
			if tc.compact {
				want = map[string]string{"cleanup.policy": "compact", "min.insync.replicas": "1"}
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s = %q, want %q (all: %v)", topic, k, got[k], v, got)
				}
			}
			if rf, err := c.ReplicationFactor(ctx, topic); err != nil || rf != 1 {
				t.Errorf("%s: replication factor %d (%v), want 1 on one broker", topic, rf, err)
			}
		})
	}
}

// TestReplicationTooLarge: a replication factor the cluster cannot give
// fails creation with an error naming the topic, instead of a log that
// would not survive a broker.
func TestReplicationTooLarge(t *testing.T) {
	b, err := embedded.Start(embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := bus.NewClient(bus.Config{Brokers: []string{b.Addr()}, ReplicationFactor: 3, MinInsyncReplicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	err = c.EnsureTopics(context.Background(), 2, "rf3.events")
	if err == nil || !strings.Contains(err.Error(), "rf3.events") {
		t.Fatalf("replication factor 3 on one broker: %v, want an error naming rf3.events", err)
	}
}

func TestTopicConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  bus.Config
		want string
	}{
		{bus.Config{ReplicationFactor: -1}, "replication factor -1"},
		{bus.Config{MinInsyncReplicas: -2}, "min insync replicas -2"},
		{bus.Config{ReplicationFactor: 1, MinInsyncReplicas: 2}, "exceeds the replication factor"},
		{bus.Config{Retention: -time.Hour}, "retention -1h0m0s"},
		{bus.Config{Retention: time.Microsecond}, "under a millisecond"},
		{bus.Config{ReplicationFactor: 3, MinInsyncReplicas: 2, Retention: time.Hour}, ""},
	} {
		err := tc.cfg.ValidateTopics()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// TestTopicChangesThatDoNotComplete: a broker that answers delete and
// create without doing them (a real cluster's controller can lag or drop
// them) makes WaitDeleted and EnsureTopics fail naming the topic, rather
// than the run carrying on over the old log or a missing topic.
func TestTopicChangesThatDoNotComplete(t *testing.T) {
	defer bus.SetTopicWait(300 * time.Millisecond)()
	b, err := embedded.Start(embedded.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	c, err := bus.NewClient(bus.Config{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureTopics(ctx, 1, "stuck.events"); err != nil {
		t.Fatal(err)
	}
	cl := b.Cluster()
	cl.ControlKey(int16(kmsg.DeleteTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		r := req.(*kmsg.DeleteTopicsRequest)
		resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
		resp.Version = r.Version
		for _, tp := range r.Topics {
			st := kmsg.NewDeleteTopicsResponseTopic()
			st.Topic = tp.Topic
			resp.Topics = append(resp.Topics, st)
		}
		for _, name := range r.TopicNames {
			n := name
			st := kmsg.NewDeleteTopicsResponseTopic()
			st.Topic = &n
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	cl.ControlKey(int16(kmsg.CreateTopics), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		r := req.(*kmsg.CreateTopicsRequest)
		resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
		resp.Version = r.Version
		for _, tp := range r.Topics {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = tp.Topic
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	if err := c.DeleteTopics(ctx, "stuck.events"); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitDeleted(ctx, "stuck.events"); err == nil || !strings.Contains(err.Error(), "topic stuck.events still exists") {
		t.Fatalf("deletion that never completes: %v, want an error naming stuck.events", err)
	}
	if err := c.EnsureTopics(ctx, 1, "never.events"); err == nil || !strings.Contains(err.Error(), "topic never.events not visible") {
		t.Fatalf("creation that never completes: %v, want an error naming never.events", err)
	}
}
