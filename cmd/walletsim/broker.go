package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/bus/embedded"
)

func newBrokerCmd() *cobra.Command {
	var addr, data string
	var partitions int
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-protocol broker standalone",
		Long: `Broker runs the embedded Kafka-protocol broker (franz-go's kfake) until
interrupted, so kcat, other walletsim processes and any Kafka client can
connect. With --data the log persists across restarts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := embedded.Config{Addr: addr, DataDir: data, Partitions: partitions}
			if err := cfg.Validate(); err != nil {
				return cli.Usage(err)
			}
			b, err := embedded.Start(cfg)
			if err != nil {
				return err
			}
			defer b.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "walletsim broker listening on %s (data: %s)\n", b.Addr(), orRAM(data))
			ctx := cmd.Context()
			<-ctx.Done()
			fmt.Fprintln(cmd.OutOrStdout(), "walletsim broker: shutting down")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9092", "listen address")
	cmd.Flags().StringVar(&data, "data", "", "data directory (default: in memory)")
	cmd.Flags().IntVar(&partitions, "partitions", 8, "default partitions for auto-created topics")
	return cmd
}

func orRAM(d string) string {
	if d == "" {
		return "memory only"
	}
	return d
}
