# SPDX-License-Identifier: MIT
#
# bash completion for tinyweb(1): the subcommand, every flag of
# `tinyweb serve --help`, the values of --symlinks, --charset and
# --access-log, and a directory for DIR. It needs nothing from the
# bash-completion package; install it as
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
	local serve_opts='-p --port -b --bind --index --listing --no-listing
		--hidden --symlinks --charset --gzip-static --no-gzip-static
		--access-log -q --quiet --keepalive-timeout --header-timeout
		--send-timeout --max-connections --max-keepalive-requests
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
		if [[ ${COMP_WORDS[i]} == serve ]]; then
			cmd=serve
			break
		fi
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$top_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W serve -- "$cur"))
		fi
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
	--access-log)
		COMPREPLY=($(compgen -W '- off' -- "$cur"))
		_tinyweb_files -f
		return 0
		;;
	--index)
		_tinyweb_files -f
		return 0
		;;
	-p | --port | -b | --bind | --keepalive-timeout | --header-timeout | \
	--send-timeout | --max-connections | --max-keepalive-requests)
		# A number, an address or a time: nothing to offer.
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
