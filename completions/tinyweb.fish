# SPDX-License-Identifier: MIT
#
# fish completion for tinyweb(1): the subcommand, every flag of
# `tinyweb serve --help`, the values of --symlinks, --charset and
# --access-log, and a directory for DIR. Install it as
# /usr/share/fish/vendor_completions.d/tinyweb.fish.

complete -c tinyweb -f

complete -c tinyweb -n __fish_use_subcommand -a serve -d 'Serve the files under DIR over HTTP/1.1'
complete -c tinyweb -s h -l help -d 'Print the help and exit'
complete -c tinyweb -s V -l version -d 'Print the version and exit'

set -l serve '__fish_seen_subcommand_from serve'
complete -c tinyweb -n $serve -s p -l port -x -d 'TCP port (default 8080; 0 picks a free port)'
complete -c tinyweb -n $serve -s b -l bind -x -d 'IPv4 or IPv6 address to listen on; repeatable'
complete -c tinyweb -n $serve -l index -r -F -d 'Index file of a directory (default index.html)'
complete -c tinyweb -n $serve -l listing -d 'List directories that have no index file (default)'
complete -c tinyweb -n $serve -l no-listing -d 'Answer 403 for directories without an index'
complete -c tinyweb -n $serve -l hidden -d 'Serve and list dotfiles'
complete -c tinyweb -n $serve -l symlinks -x -a 'never\t"follow none" inside\t"follow those that stay beneath DIR (default)" always\t"follow all"' -d 'Which symbolic links to follow'
complete -c tinyweb -n $serve -l charset -x -a 'auto\t"charset=utf-8 on UTF-8 text files (default)" off\t"bare content types"' -d 'charset=utf-8 on UTF-8 text files, or bare types'
complete -c tinyweb -n $serve -l gzip-static -d 'Send FILE.gz/FILE.br to clients that accept them (default)'
complete -c tinyweb -n $serve -l no-gzip-static -d 'Never send the .gz/.br sidecars'
complete -c tinyweb -n $serve -l access-log -r -F -a '-\t"standard output (default)" off\t"no access log"' -d 'Access log: FILE, - or off'
complete -c tinyweb -n $serve -s q -l quiet -d 'No access log on stdout'
complete -c tinyweb -n $serve -l keepalive-timeout -x -d 'Idle keep-alive wait (default 30s)'
complete -c tinyweb -n $serve -l header-timeout -x -d 'Deadline for the request headers (default 10s)'
complete -c tinyweb -n $serve -l send-timeout -x -d 'Longest a client may stall a response (default 60s)'
complete -c tinyweb -n $serve -l max-connections -x -d 'Open connections at most (default 10000)'
complete -c tinyweb -n $serve -l max-keepalive-requests -x -d 'Requests on one connection (default 1000)'
complete -c tinyweb -n $serve -x -a '(__fish_complete_directories (commandline -ct))'
