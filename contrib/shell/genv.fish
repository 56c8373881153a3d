# genv's shell integration for fish, for every user (installed by genv in a
# directory every fish reads: vendor_conf.d, or /etc/fish/conf.d). It
# defines the `genv` function in interactive and login shells; scripts
# (fish -c, ssh host cmd) and a machine where genv was removed are left
# alone.
if status is-interactive; or status is-login
    # a PREFIX outside the default PATH (which login shells reset)
    if not command -q genv; and test -x '@BINDIR@/genv'
        set -gx PATH $PATH '@BINDIR@'
    end
    if command -q genv; and not set -q _genv_integration
        set -g _genv_integration 1
        if status is-interactive; and test "$GENV_PREACTIVATE" = 1; and not set -q GENV_ENVIRONMENT_ID
            # The shell `genv remote activate` starts activates at its
            # first prompt, once the user's config (which may define
            # fish_prompt) has run.
            function _genv_first_prompt --on-event fish_prompt
                functions -e _genv_first_prompt
                set -q GENV_ENVIRONMENT_ID; or command genv shell --init fish | source
            end
            set -gx GENV_PREACTIVATE 0
            command genv shell --init fish | source
            set -gx GENV_PREACTIVATE 1
        else
            command genv shell --init fish | source
        end
    end
end
