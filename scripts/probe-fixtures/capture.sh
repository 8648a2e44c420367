#!/usr/bin/env bash
# Re-captures the real-server fingerprint fixtures used by
# internal/probe's tests. Each server is started on a loopback port with
# a config that produces one denial; curl records status, headers and
# body as raw HTTP into internal/probe/testdata/fixtures/<name>.http, and
# the server's own log lines go to testdata/logs/. Servers that are not
# installed are skipped with a message (install them with
#   apt-get install -y nginx apache2 libapache2-mod-security2 modsecurity-crs \
#                      python3-django haproxy caddy curl
# ). Run as root from anywhere; nothing listens beyond loopback.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIX=$ROOT/internal/probe/testdata/fixtures
LOGS=$ROOT/internal/probe/testdata/logs
WORK=$(mktemp -d /tmp/probe-fixtures.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$FIX" "$LOGS"
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	[ -f "$WORK/apache/httpd.pid" ] && kill "$(cat "$WORK/apache/httpd.pid")" 2>/dev/null
	[ -f "$WORK/modsec/httpd.pid" ] && kill "$(cat "$WORK/modsec/httpd.pid")" 2>/dev/null
	sleep 0.3
	rm -rf "$WORK"
}
trap cleanup EXIT

have() { command -v "$1" >/dev/null 2>&1; }

wait_port() { # port
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "server on port $1 did not start" >&2
	return 1
}

# capture NAME EXPECT SOURCE curl-args...
capture() {
	local name=$1 expect=$2 source=$3
	shift 3
	{
		echo "# source: $source"
		echo "# expect: $expect"
		curl -s -i "$@"
	} >"$FIX/$name.http"
	echo "captured $name.http ($(head -c 200 "$FIX/$name.http" | sed -n 3p | tr -d '\r'))"
}

# ---------------------------------------------------------------- nginx
if have nginx; then
	V=$(nginx -v 2>&1 | sed 's/.*nginx\///')
	mkdir -p "$WORK/nginx/html/files" "$WORK/nginx/html/api"
	echo ok >"$WORK/nginx/html/api/orders"
	cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log info;
events {}
http {
	access_log $WORK/nginx/access.log;
	client_body_temp_path $WORK/nginx;
	proxy_temp_path $WORK/nginx;
	fastcgi_temp_path $WORK/nginx;
	uwsgi_temp_path $WORK/nginx;
	scgi_temp_path $WORK/nginx;
	limit_req_zone \$binary_remote_addr zone=api:1m rate=1r/m;
	server {
		listen 127.0.0.1:18081;
		root $WORK/nginx/html;
		location = / { return 200 "ok\n"; }
		location /admin/ { deny all; }
		# limit_req runs in the preaccess phase, after "return"; a
		# static file lets it act.
		location /api/ { limit_req zone=api; }
		location /files/ { autoindex off; }
	}
}
CONF
	nginx -c "$WORK/nginx/nginx.conf" &
	PIDS+=($!)
	if wait_port 18081; then
		capture nginx_deny nginx.forbidden "captured from nginx $V on loopback by scripts/probe-fixtures/capture.sh (location /admin/ { deny all; })" \
			-X POST http://127.0.0.1:18081/admin/users -H 'Content-Type: application/json' -d '{"name":"a"}'
		curl -s -o /dev/null http://127.0.0.1:18081/api/orders
		capture nginx_limit_req nginx.limit_req "captured from nginx $V on loopback by scripts/probe-fixtures/capture.sh (limit_req rate=1r/m, default status 503)" \
			-X POST http://127.0.0.1:18081/api/orders -d 'a=1'
		capture nginx_autoindex nginx.forbidden "captured from nginx $V on loopback by scripts/probe-fixtures/capture.sh (directory without index, autoindex off)" \
			-X GET http://127.0.0.1:18081/files/
		sleep 0.2
		cp "$WORK/nginx/error.log" "$LOGS/nginx_error.log"
		cp "$WORK/nginx/access.log" "$LOGS/nginx_access.log"
	fi
	kill "${PIDS[-1]}" 2>/dev/null
else
	echo "skip nginx: not installed"
fi

# --------------------------------------------------------------- apache
MODS=/usr/lib/apache2/modules
apache_base() { # dir port
	cat <<CONF
ServerRoot $1
ServerName 127.0.0.1
PidFile $1/httpd.pid
Listen 127.0.0.1:$2
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_host_module $MODS/mod_authz_host.so
LoadModule unixd_module $MODS/mod_unixd.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule dir_module $MODS/mod_dir.so
LoadModule mime_module $MODS/mod_mime.so
TypesConfig /etc/mime.types
LoadModule log_config_module $MODS/mod_log_config.so
User www-data
Group www-data
ErrorLog $1/error.log
LogLevel info
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog $1/access.log combined
DocumentRoot $1/html
<Directory $1/html>
	Require all granted
</Directory>
CONF
}
# Debian builds some modules in (log_config, unixd …); loading them again
# is a syntax error, so drop the LoadModule lines of built-in modules.
drop_builtin() {
	local m
	for m in $(apache2 -l 2>/dev/null | sed -n 's/^ *mod_\(.*\)\.c$/\1/p'); do
		sed -i "/LoadModule ${m}_module /d" "$1"
	done
}
if have apache2 && [ -f $MODS/mod_authz_core.so ]; then
	V=$(apache2 -v 2>/dev/null | sed -n 's/Server version: //p')
	mkdir -p "$WORK/apache/html/admin"
	echo ok >"$WORK/apache/html/index.html"
	{
		apache_base "$WORK/apache" 18082
		echo "<Location /admin>"
		echo "	Require ip 192.0.2.1"
		echo "</Location>"
	} >"$WORK/apache/httpd.conf"
	drop_builtin "$WORK/apache/httpd.conf"
	chown -R www-data "$WORK/apache/html"
	apache2 -f "$WORK/apache/httpd.conf" -k start
	if ! wait_port 18082; then tail -5 "$WORK/apache/error.log" >&2; else
		capture apache_require apache.forbidden "captured from $V on loopback by scripts/probe-fixtures/capture.sh (<Location /admin> Require ip 192.0.2.1)" \
			-X POST http://127.0.0.1:18082/admin/save -d 'name=a'
		sleep 0.2
		cp "$WORK/apache/error.log" "$LOGS/apache_error.log"
		cp "$WORK/apache/access.log" "$LOGS/apache_access.log"
	fi
	apache2 -f "$WORK/apache/httpd.conf" -k stop
	sleep 0.5

	if [ -f $MODS/mod_security2.so ] && [ -d /usr/share/modsecurity-crs/rules ]; then
		mkdir -p "$WORK/modsec/html/api" "$WORK/modsec/data"
		echo ok >"$WORK/modsec/html/index.html"
		echo ok >"$WORK/modsec/html/api/search"
		chown -R www-data "$WORK/modsec"
		{
			apache_base "$WORK/modsec" 18083
			echo "LoadModule unique_id_module $MODS/mod_unique_id.so"
			echo "LoadModule security2_module $MODS/mod_security2.so"
			cat <<CONF
SecRuleEngine On
SecRequestBodyAccess On
SecDataDir $WORK/modsec/data
SecTmpDir $WORK/modsec/data
SecAuditEngine RelevantOnly
SecAuditLogRelevantStatus "^(?:5|4(?!04))"
SecAuditLogParts ABIJDEFHZ
SecAuditLogType Serial
SecAuditLog $WORK/modsec/modsec_audit.log
Include /usr/share/modsecurity-crs/owasp-crs.load
CONF
		} >"$WORK/modsec/httpd.conf"
		drop_builtin "$WORK/modsec/httpd.conf"
		apache2 -f "$WORK/modsec/httpd.conf" -k start
		if ! wait_port 18083; then tail -5 "$WORK/modsec/error.log" >&2; else
			V2=$(dpkg-query -W -f='${Version}' modsecurity-crs 2>/dev/null)
			capture modsecurity_crs apache.forbidden "captured from $V with ModSecurity 2 + OWASP CRS $V2 on loopback by scripts/probe-fixtures/capture.sh (SQL injection in a form field; ModSecurity answers with Apache's generic 403, only the log names the rule)" \
				-X POST http://127.0.0.1:18083/api/search -H 'Content-Type: application/x-www-form-urlencoded' \
				--data-urlencode "q=1' OR '1'='1' UNION SELECT password FROM users--"
			sleep 0.3
			cp "$WORK/modsec/error.log" "$LOGS/modsec_error.log"
			cp "$WORK/modsec/modsec_audit.log" "$LOGS/modsec_audit.log"
		fi
		apache2 -f "$WORK/modsec/httpd.conf" -k stop
		sleep 0.5
	else
		echo "skip modsecurity: libapache2-mod-security2 or modsecurity-crs not installed"
	fi
else
	echo "skip apache: not installed"
fi

# --------------------------------------------------------------- django
if /usr/bin/python3 -c 'import django' 2>/dev/null; then
	V=$(/usr/bin/python3 -c 'import django; print(django.get_version())')
	mkdir -p "$WORK/django"
	cat >"$WORK/django/app.py" <<PY
import sys
from django.conf import settings
from django.http import JsonResponse
from django.urls import path
settings.configure(
    DEBUG=False, SECRET_KEY="capture-only-not-secret", ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
    INSTALLED_APPS=[],
    LOGGING={"version": 1, "disable_existing_loggers": False,
             "formatters": {"f": {"format": "%(levelname)s %(asctime)s %(name)s %(message)s"}},
             "handlers": {"file": {"class": "logging.FileHandler", "filename": "$WORK/django/django.log", "formatter": "f"}},
             "loggers": {"django.security.csrf": {"handlers": ["file"], "level": "WARNING"},
                         "django.request": {"handlers": ["file"], "level": "WARNING"}}},
)
def orders(request):
    return JsonResponse({"ok": True})
urlpatterns = [path("api/orders", orders)]
if __name__ == "__main__":
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
PY
	/usr/bin/python3 "$WORK/django/app.py" runserver 127.0.0.1:18084 --noreload >"$WORK/django/server.log" 2>&1 &
	PIDS+=($!)
	if wait_port 18084; then
		capture django_csrf_cookie django.csrf "captured from Django $V (Debian python3-django) on loopback by scripts/probe-fixtures/capture.sh (POST without the csrftoken cookie)" \
			-X POST http://127.0.0.1:18084/api/orders -H 'Content-Type: application/json' -d '{"item":1}'
		capture django_csrf_token django.csrf "captured from Django $V (Debian python3-django) on loopback by scripts/probe-fixtures/capture.sh (cookie present, token missing)" \
			-X POST http://127.0.0.1:18084/api/orders -H 'Content-Type: application/json' -b 'csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345' -d '{"item":1}'
		sleep 0.2
		cp "$WORK/django/django.log" "$LOGS/django.log"
	fi
	kill "${PIDS[-1]}" 2>/dev/null
else
	echo "skip django: python3-django not installed"
fi

# ---------------------------------------------------------------- caddy
if have caddy; then
	V=$(caddy version | cut -d' ' -f1)
	mkdir -p "$WORK/caddy"
	cat >"$WORK/caddy/Caddyfile" <<CONF
{
	admin off
	auto_https off
}
http://127.0.0.1:18085 {
	bind 127.0.0.1
	@blocked path /admin*
	respond @blocked "Access denied" 403
	respond "ok"
}
CONF
	XDG_DATA_HOME=$WORK/caddy XDG_CONFIG_HOME=$WORK/caddy caddy run --config "$WORK/caddy/Caddyfile" --adapter caddyfile >"$WORK/caddy/log" 2>&1 &
	PIDS+=($!)
	if wait_port 18085; then
		capture caddy_respond caddy.forbidden "captured from Caddy $V on loopback by scripts/probe-fixtures/capture.sh (respond @blocked 403)" \
			-X POST http://127.0.0.1:18085/admin/users -d 'a=1'
	fi
	kill "${PIDS[-1]}" 2>/dev/null
else
	echo "skip caddy: not installed"
fi

# -------------------------------------------------------------- haproxy
if have haproxy; then
	V=$(haproxy -v | head -1 | cut -d' ' -f3)
	mkdir -p "$WORK/haproxy"
	cat >"$WORK/haproxy/haproxy.cfg" <<CONF
defaults
	mode http
	timeout client 5s
	timeout connect 5s
	timeout server 5s
frontend fe
	bind 127.0.0.1:18086
	acl admin path_beg /admin
	http-request deny if admin
	http-request return status 200 content-type text/plain string "ok"
CONF
	haproxy -db -f "$WORK/haproxy/haproxy.cfg" >"$WORK/haproxy/log" 2>&1 &
	PIDS+=($!)
	if wait_port 18086; then
		capture haproxy_deny haproxy.deny "captured from HAProxy $V on loopback by scripts/probe-fixtures/capture.sh (http-request deny if { path_beg /admin })" \
			-X POST http://127.0.0.1:18086/admin/users -d 'a=1'
	fi
	kill "${PIDS[-1]}" 2>/dev/null
else
	echo "skip haproxy: not installed"
fi

# ------------------------------------------------------------- pinpoint
if have go; then
	(cd "$ROOT" && go build -o "$WORK/pinpointdeny" ./scripts/probe-fixtures/pinpointdeny)
	"$WORK/pinpointdeny" -addr 127.0.0.1:18090 &
	PIDS+=($!)
	for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18090/v1/orders && break; sleep 0.1; done
	capture pinpoint_key_expired pinpoint.problem "captured from pinpoint's verdict.Write on loopback by scripts/probe-fixtures/capture.sh (authn key_expired)" \
		-X POST http://127.0.0.1:18090/v1/orders -H 'X-Api-Key: pk_test_123' -H 'Content-Type: application/json' -d '{"item":1}'
	capture pinpoint_waf pinpoint.problem "captured from pinpoint's verdict.Write on loopback by scripts/probe-fixtures/capture.sh (waf waf_blocked rule 942100)" \
		-X POST http://127.0.0.1:18090/v1/search -H 'Content-Type: application/json' -d '{"q":"1 OR 1=1"}'
	kill "${PIDS[-1]}" 2>/dev/null
else
	echo "skip pinpoint: go not installed"
fi
echo "fixtures in $FIX, logs in $LOGS"
