// Command entra-emulator runs the local Microsoft Entra ID emulator of
// package entraemulator until SIGINT or SIGTERM.
//
//	entra-emulator --config directory.yaml [--address 127.0.0.1:8443 [--allow-non-loopback]] [--ca-file ca.pem] [--admin-address 127.0.0.1:0]
//
// It listens on loopback only unless --allow-non-loopback is given: the
// emulator has no authentication and issues tokens to anyone who reaches it.
//
// It prints shell assignments on stdout, one per line, and logs to stderr:
//
//	ENTRA_EMULATOR_URL=https://127.0.0.1:PORT
//	AZURE_AUTHORITY_HOST=https://127.0.0.1:PORT/
//	ENTRA_EMULATOR_CA_FILE=/path/ca.pem      (with --ca-file)
//	ENTRA_EMULATOR_ADMIN_URL=http://127.0.0.1:PORT   (with --admin-address)
//
// The admin URL controls the emulator at run time (see
// entraemulator.Server.AdminHandler), for example:
//
//	curl -X POST $ENTRA_EMULATOR_ADMIN_URL/faults -d '{"status": 503, "retryAfter": "1s", "count": 3}'
//	curl $ENTRA_EMULATOR_ADMIN_URL/stats
//
// A fault's fields are endpoint (token, openid-configuration-v2,
// openid-configuration-v1, keys or instance-discovery; token when left
// out), status, retryAfter, latency, malformedJSON and count.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cpaccess/cpaccess/cmd/entra-emulator/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}
