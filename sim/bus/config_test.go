package bus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestConfigValidate(t *testing.T) {
	ca := writeCA(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" = valid; else a word the error must name
	}{
		{"plain broker", Config{Brokers: []string{"127.0.0.1:9092"}}, ""},
		{"several brokers", Config{Brokers: []string{"a:1", "b:2"}}, ""},
		{"no brokers", Config{}, "brokers"},
		{"no port", Config{Brokers: []string{"localhost"}}, "host:port"},
		{"sasl plain", Config{Brokers: []string{"a:1"}, SASLMechanism: "plain", SASLUser: "u"}, ""},
		{"sasl case-insensitive", Config{Brokers: []string{"a:1"}, SASLMechanism: "SCRAM-SHA-512", SASLUser: "u"}, ""},
		{"sasl scram-256", Config{Brokers: []string{"a:1"}, SASLMechanism: "scram-sha-256", SASLUser: "u"}, ""},
		{"sasl unknown", Config{Brokers: []string{"a:1"}, SASLMechanism: "gssapi", SASLUser: "u"}, "sasl mechanism"},
		{"sasl without user", Config{Brokers: []string{"a:1"}, SASLMechanism: "plain"}, "user"},
		{"tls ca", Config{Brokers: []string{"a:1"}, TLS: true, TLSCAFile: ca}, ""},
		{"tls ca missing", Config{Brokers: []string{"a:1"}, TLSCAFile: filepath.Join(t.TempDir(), "nope.pem")}, "tls ca file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate() = nil, want an error naming %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate() = %v, want it to name %q", err, tc.want)
			}
		})
	}
}

// TestTransportRefusesBadCA: a CA file that holds no certificate is
// caught when the connection is built, naming the file.
func TestTransportRefusesBadCA(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{Brokers: []string{"a:1"}, TLSCAFile: p}
	if _, err := c.Transport(); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("Transport() = %v, want an error naming %s", err, p)
	}
	if _, err := c.Dialer(); err == nil {
		t.Fatal("Dialer() accepted a CA file without certificates")
	}
}

// TestPasswordNotSerialized: a Config printed or written as JSON (a result
// file, a debug log of the settings) carries no password.
func TestPasswordNotSerialized(t *testing.T) {
	const secret = "hunter2-do-not-print"
	c := Config{Brokers: []string{"a:1"}, SASLMechanism: "plain", SASLUser: "u", SASLPassword: secret}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Fatalf("JSON carries the password: %s", b)
	}
	bad := Config{Brokers: []string{"nope"}, SASLPassword: secret}
	if err := bad.Validate(); err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("Validate error %v carries the password", err)
	}
}

// roundTrip creates a topic, writes a record and reads it back through
// every path walletsim uses: admin client, writer, partition reader, scan.
func roundTrip(t *testing.T, cfg Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := NewClient(cfg)
	if err != nil {
		return err
	}
	if err := admin.EnsureTopics(ctx, 1, "secure"); err != nil {
		return err
	}
	w, err := NewWriter(cfg)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Topic: "secure", Value: []byte("hello")}); err != nil {
		return err
	}
	var got []string
	if err := ReadRange(ctx, cfg, "secure", 0, 0, 1, func(m kafka.Message) error {
		got = append(got, string(m.Value))
		return nil
	}); err != nil {
		return err
	}
	if err := Scan(ctx, cfg, "secure", 0, 0, 1, func(_ int64, v []byte) error {
		got = append(got, string(v))
		return nil
	}); err != nil {
		return err
	}
	if len(got) != 2 || got[0] != "hello" || got[1] != "hello" {
		t.Fatalf("read back %q, want hello twice", got)
	}
	return nil
}

// TestSASL: every supported mechanism against a broker that requires it
// (kfake with SASL on); a wrong password is refused, and the error does
// not repeat it.
func TestSASL(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "alice", "pw-plain"),
		kfake.Superuser("SCRAM-SHA-256", "alice", "pw-256"),
		kfake.Superuser("SCRAM-SHA-512", "alice", "pw-512"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()
	for mech, pw := range map[string]string{"plain": "pw-plain", "scram-sha-256": "pw-256", "scram-sha-512": "pw-512"} {
		t.Run(mech, func(t *testing.T) {
			cfg := Config{Brokers: addr, SASLMechanism: mech, SASLUser: "alice", SASLPassword: pw}
			if err := roundTrip(t, cfg); err != nil {
				t.Fatalf("%s: %v", mech, err)
			}
			cfg.SASLPassword = "wrong-" + pw
			err := roundTrip(t, cfg)
			if err == nil {
				t.Fatalf("%s: a wrong password was accepted", mech)
			}
			if strings.Contains(err.Error(), cfg.SASLPassword) {
				t.Fatalf("%s: the error repeats the password: %v", mech, err)
			}
		})
	}
}

// TestTLS: a broker with a certificate from a private CA is reached with
// that CA file, and refused without it (no silent fallback to trusting
// anything).
func TestTLS(t *testing.T) {
	caFile, serverCfg := tlsPair(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(serverCfg))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()
	if err := roundTrip(t, Config{Brokers: addr, TLS: true, TLSCAFile: caFile}); err != nil {
		t.Fatalf("tls with the CA: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := NewClient(Config{Brokers: addr, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Partitions(ctx, "secure"); err == nil {
		t.Fatal("a certificate from an unknown CA was trusted")
	}
}

// tlsPair makes a private CA (written to a PEM file) and a server
// certificate for 127.0.0.1 signed by it.
func tlsPair(t *testing.T) (caFile string, server *tls.Config) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "walletsim test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

// writeCA writes a valid CA certificate file for Validate cases.
func writeCA(t *testing.T) string {
	t.Helper()
	p, _ := tlsPair(t)
	return p
}
