-- Prosody for the Switchboard lab (docker compose --profile xmpp): an XMPP
-- server with one domain, `localhost`, for Conversations / Dino / Gajim and
-- the gateway's XMPP adapter. A lab on a trusted network only: plain-text
-- passwords are stored and accepted without TLS.
--
-- Accounts:  docker compose -f docker/compose.yaml exec prosody \
--              prosodyctl register alice localhost secret123
-- Check:     prosodyctl --config docker/prosody/prosody.cfg.lua check config

-- The compose service runs prosody in the foreground as the image's prosody
-- user; logs go to the console so `docker compose logs` shows them.
pidfile = "/var/run/prosody/prosody.pid"
log = { { levels = { min = "info" }, to = "console" } }
data_path = "/var/lib/prosody"
-- Where Prosody looks for certificates (none are needed for the lab).
certificates = "/etc/prosody/certs"

admins = { }

modules_enabled = {
	"roster"; "saslauth"; "disco"; "carbons"; "pep"; "private"; "vcard4"; "vcard_legacy";
	"ping"; "time"; "version"; "uptime"; "register"; "blocklist"; "smacks";
	-- Jingle calls need the two clients to find each other's capabilities and
	-- exchange messages; nothing extra server-side (no external services here:
	-- clients get STUN/TURN from the gateway or their own settings).
}
modules_disabled = { "s2s" }

-- Client connections on 5222 (all addresses, host network: see compose.yaml).
c2s_ports = { 5222 }
c2s_interfaces = { "*" }
-- No server-to-server federation in the lab.
s2s_ports = { }

-- Lab only: no certificate, so no TLS is required or offered. Real deployments
-- must set c2s_require_encryption = true and give Prosody a certificate.
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
allow_registration = false

VirtualHost "localhost"
