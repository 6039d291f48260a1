# SPDX-License-Identifier: MIT
#
# fish completion for tinyweb(1): the commands serve, proxy and
# check-config,
# the control commands stop, quit, reload and reopen (with --pidfile FILE
# or -c FILE), every flag of `tinyweb --help`, the values of the flags
# that take a word from a fixed list, files for -c, --access-log,
# --error-log, --mime-types and --pidfile, user names for --user, and a
# directory for DIR. Install it as
# /usr/share/fish/vendor_completions.d/tinyweb.fish.

complete -c tinyweb -f

complete -c tinyweb -n __fish_use_subcommand -a serve -d 'Serve the files under DIR over HTTP/1.1'
complete -c tinyweb -n __fish_use_subcommand -a proxy -d 'Forward requests to upstream servers (files from DIR first)'
complete -c tinyweb -n __fish_use_subcommand -a check-config -d 'Check the configuration, print it and exit'
complete -c tinyweb -n __fish_use_subcommand -a stop -d 'Fast stop of a running server (SIGTERM)'
complete -c tinyweb -n __fish_use_subcommand -a quit -d 'Graceful stop of a running server (SIGQUIT)'
complete -c tinyweb -n __fish_use_subcommand -a reload -d 'Make a running server reload its configuration (SIGHUP)'
complete -c tinyweb -n __fish_use_subcommand -a reopen -d 'Make a running server re-open its logs (SIGUSR1)'
# The control commands take no other option.
set -l not_control 'not __fish_seen_subcommand_from stop quit reload reopen'
complete -c tinyweb -n $not_control -s h -l help -d 'Print the help and exit'
complete -c tinyweb -n $not_control -s V -l version -d 'Print the version and exit'

# serve and check-config take the same options.
set -l serve '__fish_seen_subcommand_from serve proxy check-config'
complete -c tinyweb -n $serve -s p -l port -x -d 'TCP port (default 8080; 0 picks a free port)'
complete -c tinyweb -n $serve -s b -l bind -x -d 'IPv4 or IPv6 address to listen on; repeatable'
complete -c tinyweb -n $serve -l listen -x -d 'Also listen for plain HTTP on ADDR:PORT; repeatable'
complete -c tinyweb -n $serve -s c -l config -r -F -d 'Read directives from FILE; flags win over it'
complete -c tinyweb -n $serve -s t -l test-config -d 'Check the configuration, print it and exit'
complete -c tinyweb -n $serve -l index -r -F -d 'Index file of a directory (default index.html)'
complete -c tinyweb -n $serve -l listing -d 'List directories that have no index file (default)'
complete -c tinyweb -n $serve -l no-listing -d 'Answer 403 for directories without an index'
complete -c tinyweb -n $serve -l hidden -d 'Serve and list dotfiles'
complete -c tinyweb -n $serve -l no-hidden -d 'Hide dotfiles (default)'
complete -c tinyweb -n $serve -l symlinks -x -a 'never\t"follow none" inside\t"follow those that stay beneath DIR (default)" always\t"follow all"' -d 'Which symbolic links to follow'
complete -c tinyweb -n $serve -l charset -x -a 'auto\t"charset=utf-8 on UTF-8 text files (default)" off\t"bare content types"' -d 'charset=utf-8 on UTF-8 text files, or bare types'
complete -c tinyweb -n $serve -l gzip-static -d 'Send FILE.gz/FILE.br to clients that accept them (default)'
complete -c tinyweb -n $serve -l no-gzip-static -d 'Never send the .gz/.br sidecars'
complete -c tinyweb -n $serve -l add-header -x -d "Add a header 'NAME: VALUE' to every response; repeatable"
complete -c tinyweb -n $serve -l expires -x -a 'max\t"10 years" off\t"no Cache-Control or Expires (default)"' -d 'Cache-Control max-age and Expires: TIME, max or off'
complete -c tinyweb -n $serve -l mime-types -r -F -d 'Read extension types from a mime.types file'
complete -c tinyweb -n $serve -l access-log -r -F -a '-\t"standard output (default)" off\t"no access log"' -d 'Access log: FILE, - or off'
complete -c tinyweb -n $serve -l log-format -x -a 'combined\t"combined log format (default)" common\t"common log format" json\t"one JSON object per line"' -d 'Access log format'
complete -c tinyweb -n $serve -s q -l quiet -d 'No access log on stdout'
complete -c tinyweb -n $serve -l no-quiet -d 'Log to stdout unless --access-log says otherwise (default)'
complete -c tinyweb -n $serve -l error-log -r -F -a '-\t"standard error (default)"' -d 'Error log: FILE or -'
complete -c tinyweb -n $serve -l log-level -x -a 'error\t"errors only" warn\t"warnings and errors" info\t"startup and notices (default)" debug\t"everything"' -d 'Least severe message logged'
complete -c tinyweb -n $serve -l pidfile -r -F -d "Write the server's pid to FILE (locked)"
complete -c tinyweb -n $serve -s d -l daemon -d 'Detach into the background once listening'
complete -c tinyweb -n $serve -l no-daemon -d 'Stay in the foreground (default)'
complete -c tinyweb -n $serve -s m -l mode -x -a 'epoll\t"one process, one event loop (default)" prefork\t"worker processes" threads\t"worker threads"' -d 'How connections are served'
complete -c tinyweb -n $serve -s w -l workers -x -a 'auto\t"one per CPU (default)"' -d 'Processes or threads for prefork/threads'
complete -c tinyweb -n $serve -l status -x -d 'Answer this URL path with live counters (off by default)'
complete -c tinyweb -n $serve -l status-allow -x -a 'all\t"every client"' -d 'Clients that may see the status page: ADDR[/BITS] or all; repeatable'
complete -c tinyweb -n $serve -l accept -x -a 'exclusive\t"shared sockets, EPOLLEXCLUSIVE (default)" reuseport\t"a SO_REUSEPORT socket per worker" mutex\t"shared sockets, an accept mutex" mutex-file\t"shared sockets, a lock file as the mutex" mutex-sem\t"the mutex, idle workers sleep on a semaphore"' -d 'How prefork/threads workers accept connections'
complete -c tinyweb -n $serve -l aio -x -a 'threads\t"by a pool of threads per event loop (default)" off\t"by sendfile on the event loop"' -d 'How parts of files not in memory are read'
complete -c tinyweb -n $serve -l aio-threads -x -d 'Threads in each aio pool, 1 to 64 (default 4)'
complete -c tinyweb -n $serve -l sendfile -x -a 'auto\t"sendfile below 2 MiB, pread + send from 2 MiB (default)" on\t"always sendfile, zero copy" off\t"always pread + send through a buffer"' -d 'How file bodies are sent'
complete -c tinyweb -n $serve -l user -x -a '(__fish_complete_users)' -d 'Serve clients as USER[:GROUP], started as root'
complete -c tinyweb -n $serve -l keepalive-timeout -x -d 'Idle keep-alive wait (default 30s)'
complete -c tinyweb -n $serve -l header-timeout -x -d 'Deadline for the request headers (default 10s)'
complete -c tinyweb -n $serve -l send-timeout -x -d 'Longest a client may stall a response (default 60s)'
complete -c tinyweb -n $serve -l send-min-rate -x -d 'Bytes a second a client must take of a response (default 1k; 0: off)'
complete -c tinyweb -n $serve -l max-connections -x -d 'Open connections at most (default 10000, or fewer to fit RLIMIT_NOFILE)'
complete -c tinyweb -n $serve -l max-keepalive-requests -x -d 'Requests on one connection (default 1000)'
complete -c tinyweb -n $serve -l max-request-body -x -d 'Request bodies read and discarded at most (default 1m)'
complete -c tinyweb -n $serve -l balance -x -a 'round_robin\t"smooth weighted round robin (default)" least_conn\t"fewest requests in flight" ip_hash\t"by the client address" hash\t"by the request URI" consistent\t"by the request URI, on a ring"' -d 'Proxy: how a server is chosen'
complete -c tinyweb -n $serve -l proxy-connect-timeout -x -d 'Proxy: longest wait for an upstream connection (default 10s)'
complete -c tinyweb -n $serve -l proxy-read-timeout -x -d 'Proxy: longest silence of an upstream server (default 60s)'
complete -c tinyweb -n $serve -l proxy-send-timeout -x -d 'Proxy: longest stall sending a request upstream (default 60s)'
complete -c tinyweb -n $serve -l proxy-next-upstream-tries -x -d 'Proxy: servers tried for one request (default 0: each once)'
complete -c tinyweb -n $serve -l proxy-next-upstream -x -d 'Proxy: when the next server gets a request (error,timeout,http_50x,non_idempotent or off)'
complete -c tinyweb -n $serve -l proxy-max-body -x -d 'Proxy: larger request bodies get 413 (default 0: no limit)'
complete -c tinyweb -n $serve -l proxy-buffer-size -x -d 'Proxy: largest upstream response head (default 16k)'
complete -c tinyweb -n $serve -l proxy-pass-request-headers -d 'Proxy: pass the client header fields on (default)'
complete -c tinyweb -n $serve -l no-proxy-pass-request-headers -d 'Proxy: send only the proxy own fields'
complete -c tinyweb -n $serve -l proxy-set-header -x -d "Proxy: set a request field 'NAME: VALUE' upstream; repeatable"
complete -c tinyweb -n $serve -l proxy-keepalive -x -d 'Proxy: idle upstream connections kept by each worker (default 32)'
complete -c tinyweb -n $serve -l tls-cert -r -F -d 'Serve HTTPS with the certificate chain FILE (PEM)'
complete -c tinyweb -n $serve -l tls-key -r -F -d 'The private key (PEM) of the --tls-cert before it'
complete -c tinyweb -n $serve -l tls-protocols -x -a 'TLSv1 TLSv1.1 TLSv1.2 TLSv1.3' -d 'TLS versions (default TLSv1.2 TLSv1.3)'
complete -c tinyweb -n $serve -l tls-ciphers -x -d 'OpenSSL cipher list for TLS 1.2 (default Mozilla intermediate)'
complete -c tinyweb -n $serve -l redirect-https -x -d 'Answer 301 to https on PORT'
complete -c tinyweb -n $serve -x -a '(__fish_complete_directories (commandline -ct))'

# stop, quit, reload and reopen: which server, by its pid file.
set -l control '__fish_seen_subcommand_from stop quit reload reopen'
complete -c tinyweb -n $control -l pidfile -r -F -d 'The pid file of the server to signal'
complete -c tinyweb -n $control -s c -l config -r -F -d 'Take the pid file from the pidfile directive of FILE'
