package main

import (
	"context"
	"fmt"
	"io"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/metrics"
)

// serveMetrics is --metrics-addr: walletsim's Prometheus metrics at addr
// (no addr, no metrics: nil, and a no-op stop).
func serveMetrics(ctx context.Context, addr, role, policy string, stderr io.Writer) (*metrics.Metrics, func(), error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	m, srv, err := metrics.Listen(ctx, addr, metrics.Options{Role: role, Policy: policy, Version: manifest.Version})
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	fmt.Fprintf(stderr, "metrics: serving %s\n", srv.URL())
	return m, func() { srv.Close() }, nil
}
