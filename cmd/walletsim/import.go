package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/trace/paysim"
)

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Convert other simulators' logs into walletsim traces",
	}
	cmd.AddCommand(newImportPaySimCmd())
	return cmd
}

// showErrors bounds the bad rows printed; all are counted.
const showErrors = 100

func newImportPaySimCmd() *cobra.Command {
	var (
		out, provider, region, class, start string
		strict                              bool
	)
	cmd := &cobra.Command{
		Use:   "paysim FILE.csv --out TRACE",
		Short: "Convert a PaySim log into a trace for run --trace and attack --trace",
		Long: `Convert a PaySim log (columns step,type,amount,nameOrig,oldbalanceOrg,
newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud)
into a walletsim trace. Every customer gets a wallet (--provider, --region,
--class) opened with its first balance in the log; merchants show that
provider's code. PAYMENT becomes a merchant scan, TRANSFER, CASH_OUT and
DEBIT transfers to the destination's wallet, CASH_IN a top-up; isFraud and
isFlaggedFraud are kept as flags. One step is one simulated hour from
--start. Amounts are major units of the region's currency, so wallet limits
decline what PaySim's larger transfers would exceed.

Bad rows are left out and reported with their line numbers (exit 0);
with --strict any bad row is an error and no trace is written (exit 2).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return cli.Usagef("--out TRACE is required")
			}
			var o paysim.Options
			var err error
			if o.Provider, err = sim.ParseProvider(provider); err != nil {
				return cli.Usage(fmt.Errorf("--provider: %w", err))
			}
			if o.Region, err = sim.ParseRegion(region); err != nil {
				return cli.Usage(fmt.Errorf("--region: %w", err))
			}
			if o.Class, err = sim.ParseClass(class); err != nil {
				return cli.Usage(fmt.Errorf("--class: %w", err))
			}
			if o.Start, err = time.Parse(time.RFC3339, start); err != nil {
				return cli.Usagef("--start: %q is not an RFC 3339 time", start)
			}
			return importPaySim(cmd, args[0], out, o, strict)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&out, "out", "", "trace file to write")
	fs.StringVar(&provider, "provider", "alipay", "wallet provider of every PaySim customer")
	fs.StringVar(&region, "region", "CN", "region of the wallets and merchants (CN: amounts in CNY; HK: HKD)")
	fs.StringVar(&class, "class", "cn_class3", "KYC class of the wallets (sets their limits)")
	fs.StringVar(&start, "start", "2024-07-24T00:00:00+08:00", "simulated time of step 1 (RFC 3339)")
	fs.BoolVar(&strict, "strict", false, "treat any bad row as an error: exit 2 and write no trace")
	return cmd
}

func importPaySim(cmd *cobra.Command, in, out string, o paysim.Options, strict bool) error {
	res, err := paysim.ConvertFile(in, out, o, strict)
	if res != nil {
		res.WriteErrors(cmd.ErrOrStderr(), showErrors)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %d rows, %d payments over %d steps, %d wallets, %d merchants; %d bad rows left out\nwrote %s\n",
		in, res.Rows, res.Payments, res.Steps, res.Wallets, res.Merchants, res.Rejected, out)
	return nil
}
