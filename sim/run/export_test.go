package run

import "github.com/walletsim/walletsim/sim/ledger"

type ledgerWallet = ledger.Wallet
