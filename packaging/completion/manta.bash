# bash completion for manta and mantad                       -*- shell-script -*-
# shellcheck shell=bash disable=SC2207 # COMPREPLY=($(compgen ...)), as bash-completion does

# Network names from the running daemon, if it answers.
_manta_networks()
{
    manta --json networks 2>/dev/null |
        sed -n 's/^[[:space:]]*"name": "\([^"]*\)".*/\1/p'
}

_manta()
{
    local cur prev words cword
    _init_completion || return

    local commands="status peers networks create invite join leave kick hostname
        whois ping up down dns firewall tag genkey pubkey addresses version mcp service
        uplink probe"
    local i cmd=
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        --socket) ((i++)) ;;
        -*) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done

    if [[ $prev == --socket ]]; then
        _filedir
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$commands --socket --json --help" -- "$cur"))
        return
    fi

    case $cmd in
    create) COMPREPLY=($(compgen -W "--hostname --json --help" -- "$cur")) ;;
    invite)
        case $prev in
        --expires) COMPREPLY=($(compgen -W "30m 1h 24h 7d never" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$(_manta_networks) --expires --reusable --qr --json" -- "$cur")) ;;
        esac
        ;;
    join) COMPREPLY=($(compgen -W "--hostname --name --json" -- "$cur")) ;;
    peers | leave | kick | hostname)
        COMPREPLY=($(compgen -W "$(_manta_networks) --json" -- "$cur")) ;;
    ping) COMPREPLY=($(compgen -W "-c --count --json" -- "$cur")) ;;
    up) COMPREPLY=($(compgen -W "--accept-dns=true --accept-dns=false --json" -- "$cur")) ;;
    dns) COMPREPLY=($(compgen -W "add rm list export --network --json" -- "$cur")) ;;
    uplink) COMPREPLY=($(compgen -W "status up down --json" -- "$cur")) ;;
    probe) COMPREPLY=($(compgen -W "udp --via --address --json" -- "$cur")) ;;
    firewall) COMPREPLY=($(compgen -W "list add del default reject flows --json" -- "$cur")) ;;
    tag) COMPREPLY=($(compgen -W "$(_manta_networks) --json" -- "$cur")) ;;
    service)
        case $prev in
        --init) COMPREPLY=($(compgen -W "systemd launchd" -- "$cur")) ;;
        --root) _filedir -d ;;
        *) COMPREPLY=($(compgen -W "install uninstall status --init --root --no-start --json" -- "$cur")) ;;
        esac
        ;;
    *) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
    esac
}
complete -F _manta manta

_mantad()
{
    local cur prev words cword
    _init_completion || return

    case $prev in
    --config) _filedir conf; return ;;
    --state-dir) _filedir -d; return ;;
    --socket) _filedir; return ;;
    --user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")); return ;;
    esac
    COMPREPLY=($(compgen -W "--config --state-dir --socket --user --foreground
        --log-level --version --help" -- "$cur"))
}
complete -F _mantad mantad

# ex: filetype=sh
