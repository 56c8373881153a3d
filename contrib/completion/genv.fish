# fish completion for genv. The words and their descriptions come from
# `genv __complete`, which walks genv's own option tables: they always
# match the installed genv. Installed in fish's vendor_completions.d.
function __genv_complete
    set -l cur (commandline -ct)
    for line in (command genv __complete (commandline -opc) $cur 2>/dev/null)
        if test "$line" = :files
            __fish_complete_path $cur
        else if test -n "$line"
            echo $line
        end
    end
end
complete -c genv -f -a '(__genv_complete)'
