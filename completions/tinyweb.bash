# SPDX-License-Identifier: MIT
#
# bash completion for tinyweb(1): the commands serve, proxy and
# check-config,
# the control commands stop, quit, reload and reopen (with --pidfile FILE
# or -c FILE), every flag of `tinyweb --help`, the values of the flags
# that take a word from a fixed list (--symlinks, --charset, --access-log,
# --log-format, --log-level, --mode, --workers, --status-allow, --accept,
# --aio, --sendfile, --expires, --balance, --allow, --deny, --auth-basic),
# files for the flags that name one (-c, --access-log, --error-log,
# --mime-types, --pidfile, --index, --tls-cert, --tls-key, --auth-file),
# the versions of --tls-protocols, user and
# group names for --user, and a directory for DIR. It needs nothing from
# the bash-completion package; install it as
# /usr/share/bash-completion/completions/tinyweb or source it.

# Appends the files (-f) or directories (-d) that start with $cur to
# COMPREPLY, one per line so that names with blanks stay whole.
_tinyweb_files()
{
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	COMPREPLY+=($(compgen "$1" -- "$cur"))
}

_tinyweb()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= cword=$COMP_CWORD
	local top_opts='-h --help -V --version'
	local commands='serve proxy check-config stop quit reload reopen'
	# The control commands find the server through a pid file, named
	# directly or by the pidfile directive of a configuration file.
	local control_opts='--pidfile -c --config'
	# The same flags for serve and check-config: check-config validates
	# exactly what serve would run with.
	local serve_opts='-p --port -b --bind --listen -c --config -t --test-config
		--index --listing --no-listing --hidden --no-hidden
		--symlinks --charset --gzip-static --no-gzip-static
		--compress --no-compress --compress-types --compress-min-length
		--compress-max-size --compress-cache --compress-level
		--add-header --expires --mime-types --access-log --log-format
		-q --quiet --no-quiet --error-log --log-level --pidfile
		-d --daemon --no-daemon -m --mode -w --workers --status
		--status-allow --accept --defer-accept --no-defer-accept --aio --aio-threads --sendfile --user
		--auth-file --auth-basic --allow --deny
		--keepalive-timeout --header-timeout --send-timeout --send-min-rate
		--max-connections --max-keepalive-requests --max-request-body
		--balance --proxy-connect-timeout --proxy-read-timeout
		--proxy-send-timeout --proxy-next-upstream-tries
		--proxy-next-upstream --proxy-max-body --proxy-buffer-size
		--proxy-pass-request-headers --no-proxy-pass-request-headers
		--proxy-set-header --proxy-keepalive
		--tls-cert --tls-key --tls-protocols --tls-ciphers
		--redirect-https
		--spa --cors --cors-methods --cors-headers --cors-expose-headers
		--cors-max-age --cors-credentials --no-cors-credentials
		--sandbox
		--health
		-h --help -V --version'
	local i cmd=

	COMPREPLY=()
	# "--flag=value" is split at "=" by COMP_WORDBREAKS: treat it as
	# "--flag value".
	if [[ $cur == = ]]; then
		cur=
	elif (( cword > 1 )) && [[ ${COMP_WORDS[cword-1]} == = ]]; then
		(( cword-- ))
	fi
	(( cword > 0 )) && prev=${COMP_WORDS[cword-1]}

	for (( i = 1; i < cword; i++ )); do
		case ${COMP_WORDS[i]} in
		serve | proxy | check-config | stop | quit | reload | reopen)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	# "tinyweb DIR" is "tinyweb serve DIR": the first word is a command
	# or a directory, and options before a directory are serve's.
	if [[ -z $cmd ]] && (( cword == 1 )); then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$top_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
			_tinyweb_files -d
		fi
		return 0
	fi
	if [[ -z $cmd ]]; then
		cmd=serve
	fi

	case $cmd in
	stop | quit | reload | reopen)
		case $prev in
		--pidfile | -c | --config)
			_tinyweb_files -f
			;;
		*)
			COMPREPLY=($(compgen -W "$control_opts" -- "$cur"))
			;;
		esac
		return 0
		;;
	esac

	# --user USER:GROUP: ":" is in COMP_WORDBREAKS too, so the group is
	# a word of its own after "USER" ":".
	if (( cword > 2 )) && [[ $prev == : &&
	      ${COMP_WORDS[cword-3]} == --user ]]; then
		COMPREPLY=($(compgen -g -- "$cur"))
		return 0
	fi

	case $prev in
	--symlinks)
		COMPREPLY=($(compgen -W 'never inside always' -- "$cur"))
		return 0
		;;
	--charset)
		COMPREPLY=($(compgen -W 'auto off' -- "$cur"))
		return 0
		;;
	--log-format)
		COMPREPLY=($(compgen -W 'combined common json' -- "$cur"))
		return 0
		;;
	--log-level)
		COMPREPLY=($(compgen -W 'error warn info debug' -- "$cur"))
		return 0
		;;
	-m | --mode)
		COMPREPLY=($(compgen -W 'epoll prefork threads' -- "$cur"))
		return 0
		;;
	-w | --workers)
		COMPREPLY=($(compgen -W 'auto' -- "$cur"))
		return 0
		;;
	--status-allow)
		COMPREPLY=($(compgen -W 'all' -- "$cur"))
		return 0
		;;
	--allow | --deny)
		COMPREPLY=($(compgen -W 'all' -- "$cur"))
		return 0
		;;
	--auth-basic)
		COMPREPLY=($(compgen -W 'off' -- "$cur"))
		return 0
		;;
	--auth-file)
		_tinyweb_files -f
		return 0
		;;
	--accept)
		COMPREPLY=($(compgen -W 'exclusive reuseport mutex mutex-file mutex-sem' \
			-- "$cur"))
		return 0
		;;
	--aio)
		COMPREPLY=($(compgen -W 'off threads' -- "$cur"))
		return 0
		;;
	--sendfile)
		COMPREPLY=($(compgen -W 'auto on off' -- "$cur"))
		return 0
		;;
	--sandbox)
		COMPREPLY=($(compgen -W 'on off' -- "$cur"))
		return 0
		;;
	--expires)
		COMPREPLY=($(compgen -W 'off max' -- "$cur"))
		return 0
		;;
	--balance)
		COMPREPLY=($(compgen -W 'round_robin least_conn ip_hash hash
			consistent' -- "$cur"))
		return 0
		;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return 0
		;;
	--access-log)
		COMPREPLY=($(compgen -W '- off' -- "$cur"))
		_tinyweb_files -f
		return 0
		;;
	--error-log)
		COMPREPLY=($(compgen -W '-' -- "$cur"))
		_tinyweb_files -f
		return 0
		;;
	--tls-protocols)
		COMPREPLY=($(compgen -W 'TLSv1 TLSv1.1 TLSv1.2 TLSv1.3' -- "$cur"))
		return 0
		;;
	--compress-level)
		COMPREPLY=($(compgen -W 'gzip= br= zstd=' -- "$cur"))
		compopt -o nospace 2>/dev/null
		return 0
		;;
	--compress-types | --compress-min-length | --compress-max-size | \
	--compress-cache)
		# Types or a size: nothing to offer.
		return 0
		;;
	-c | --config | --mime-types | --pidfile | --index | --tls-cert | \
	--tls-key)
		_tinyweb_files -f
		return 0
		;;
	--health)
		# A URL path: nothing to offer.
		return 0
		;;
	-p | --port | -b | --bind | --listen | --add-header | --status | \
	--aio-threads | --keepalive-timeout | \
	--header-timeout | --send-timeout | --send-min-rate | --max-connections | \
	--max-keepalive-requests | --max-request-body | \
	--proxy-connect-timeout | --proxy-read-timeout | --proxy-send-timeout | \
	--proxy-next-upstream-tries | --proxy-next-upstream | --proxy-max-body | \
	--proxy-buffer-size | --proxy-set-header | --proxy-keepalive | \
	--tls-ciphers | --redirect-https)
		# A number, an address, a header or a time: nothing to offer.
		return 0
		;;
	--cors | --cors-methods | --cors-headers | --cors-expose-headers | \
	--cors-max-age)
		# An origin, names or a time: nothing to offer.
		return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$serve_opts" -- "$cur"))
	else
		_tinyweb_files -d
	fi
	return 0
}
complete -F _tinyweb tinyweb
