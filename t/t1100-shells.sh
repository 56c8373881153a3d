#!/usr/bin/env bash
# t1100-shells.sh: real bash, zsh and fish processes evaluate the init
# code and run genv activate/attach/detach/config/deactivate through the
# shell function; we check the resulting environment, that deactivate
# restores what was there, and that failures propagate to $?.
. "$(dirname "$0")/lib.sh"

fake_gpus 4
SHIMS=$(cd "$BUILD/libexec/genv/shims" && pwd -P)
export SHIMS

# vars FILE: the genv-related variables of the shell, sorted
cat >"$TRASH/show.sh" <<'EOS'
env | grep -E '^(GENV_(SHELL|ENVIRONMENT_ID|ENVIRONMENT_NAME|GPUS|GPU_MEMORY|ENVS|BACKUP_ENVS)|CUDA_VISIBLE_DEVICES|CUDA_DEVICE_ORDER)=' | LC_ALL=C sort
EOS

for sh in bash zsh; do
	test_expect_success "$sh: activate --gpus 1 --name 'two words', then deactivate" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			PS1=\"\$ \"
			export CUDA_VISIBLE_DEVICES=7
			saved_path=\$PATH
			genv activate --gpus 1 --name \"two words\" || exit 1
			. ./show.sh >active
			printf \"%s\n\" \"\$PS1\" >ps1
			command -v nvidia-smi >which
			case \$PATH in \"\$SHIMS:\$saved_path\") ;; *) echo bad PATH \$PATH; exit 1;; esac
			genv status >status
			genv deactivate || exit 1
			. ./show.sh >after
			printf \"%s\n\" \"\$PS1\" >>ps1
			test \"\$PATH\" = \"\$saved_path\" || exit 1
			command -v nvidia-smi >>which; true
		" &&
		cat >expect <<-EOT &&
		CUDA_DEVICE_ORDER=PCI_BUS_ID
		CUDA_VISIBLE_DEVICES=0
		GENV_BACKUP_ENVS=PATH:CUDA_VISIBLE_DEVICES:PS1
		GENV_ENVIRONMENT_ID=$(sed -n "s/^Environment is active (\(.*\))$/\1/p" status)
		GENV_ENVIRONMENT_NAME=two words
		GENV_ENVS=GENV_SHELL:GENV_ENVIRONMENT_ID:PATH:GENV_ENVIRONMENT_NAME:GENV_GPUS:CUDA_VISIBLE_DEVICES:CUDA_DEVICE_ORDER:PS1
		GENV_GPUS=1
		GENV_SHELL=1
		EOT
		test_cmp expect active &&
		echo CUDA_VISIBLE_DEVICES=7 >expect &&
		test_cmp expect after &&
		printf "(genv) \$ \n\$ \n" >expect &&
		test_cmp expect ps1 &&
		head -n 1 which >first && echo "$SHIMS/nvidia-smi" >expect && test_cmp expect first &&
		! grep -q "$SHIMS" <(tail -n +2 which) &&
		cat >expect <<-EOT &&
		Environment is active ($(sed -n "s/^Environment is active (\(.*\))$/\1/p" status))
		Attached to GPUs at indices 0

		Configuration
		    Name: two words
		    Device count: 1
		    GPU memory capacity: N/A

		EOT
		test_cmp expect status &&
		grep -q "\"envs\": \[\]" "$GENV_TMPDIR/envs.json"
	'

	test_expect_success "$sh: attach, detach and config go through the function" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --no-prompt || exit 1
			echo \$CUDA_VISIBLE_DEVICES >cvd
			genv attach --count 2 || exit 1
			echo \$CUDA_VISIBLE_DEVICES >>cvd
			genv detach --index 0 || exit 1
			echo \$CUDA_VISIBLE_DEVICES >>cvd
			genv config gpus 3 || exit 1
			genv attach || exit 1
			echo \$CUDA_VISIBLE_DEVICES:\$GENV_GPUS >>cvd
			genv config gpus --clear || exit 1
			echo \${GENV_GPUS-unset} >>cvd
			genv detach || exit 1
			echo \$CUDA_VISIBLE_DEVICES >>cvd
			genv deactivate
		" &&
		printf "%s\n" -1 0,1 1 0,1,2:3 unset -1 >expect &&
		test_cmp expect cvd
	'

	test_expect_success "$sh: failures propagate and leave the shell inactive" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --gpus 5 2>err; echo activate=\$? >st
			echo \${GENV_ENVIRONMENT_ID-none} >>st
			genv deactivate 2>>err; echo deactivate=\$? >>st
			genv attach 2>>err; echo attach=\$? >>st
			genv activate --gpus 4 --no-prompt || exit 1
			genv attach --index 9 2>>err; echo attach=\$? >>st
			genv detach --index 9 2>>err; echo detach=\$? >>st
			genv config gpus x 2>>err; echo config=\$? >>st
			genv activate 2>>err; echo activate=\$? >>st
			genv lock sh -c \"exit 3\"; echo lock=\$? >>st
			genv deactivate; echo deactivate=\$? >>st
		" &&
		printf "%s\n" activate=1 none deactivate=1 attach=1 attach=1 detach=1 config=2 activate=1 lock=3 deactivate=0 >expect &&
		test_cmp expect st &&
		grep -q "^No available devices$" err &&
		grep -q "^Device 9 does not exist$" err &&
		grep -q "^Already running in an active environment$" err &&
		grep -q "\"envs\": \[\]" "$GENV_TMPDIR/envs.json"
	'

	test_expect_success "$sh: arguments with spaces and globs reach genv intact" '
		touch a1 a2 &&
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --name \"*  spaced\" --no-prompt || exit 1
			genv config name >name
			genv lock sh -c \"echo x; exit 4\" >lockout; echo \$? >>lockout
			genv deactivate
		" &&
		echo "*  spaced" >expect && test_cmp expect name &&
		printf "x\n4\n" >expect && test_cmp expect lockout
	'

	test_expect_success "$sh: a second shell joins with --id and gets config and devices" '
		'"$sh"' -c "
			eval \"\$(genv shell --init)\"
			genv activate --id team --gpus 2 --name shared --no-prompt || exit 1
			'"$sh"' -c \"
				unset GENV_ENVIRONMENT_ID GENV_ENVS GENV_BACKUP_ENVS
				eval \\\"\\\$(genv shell --init)\\\"
				genv activate --id team --no-prompt || exit 1
				echo \\\$GENV_ENVIRONMENT_NAME \\\$CUDA_VISIBLE_DEVICES >joined
				genv deactivate
			\" || exit 1
			genv deactivate
		" &&
		echo "shared 0,1" >expect && test_cmp expect joined
	'
done

test_expect_success 'fish: activate --gpus 1 --name "two words", then deactivate' '
	fish -c "
		genv shell --init fish | source
		function fish_prompt; printf \"> \"; end
		set -gx CUDA_VISIBLE_DEVICES 7
		set saved_path \"\$PATH\"
		genv activate --gpus 1 --name \"two words\"; or exit 1
		bash show.sh >active
		fish_prompt >prompt; echo >>prompt
		command -s nvidia-smi >which
		test \"\$PATH[1]\" = \"\$SHIMS\"; or exit 1
		genv status >status
		genv deactivate; or exit 1
		bash show.sh >after
		fish_prompt >>prompt; echo >>prompt
		test \"\$PATH\" = \"\$saved_path\"; or exit 1
		genv activate --gpus 9 2>err; echo activate=\$status >st
		set -q GENV_ENVIRONMENT_ID; or echo inactive >>st
		genv deactivate 2>>err; echo deactivate=\$status >>st
	" &&
	eid=$(sed -n "s/^Environment is active (\(.*\))$/\1/p" status) &&
	cat >expect <<-EOT &&
	CUDA_DEVICE_ORDER=PCI_BUS_ID
	CUDA_VISIBLE_DEVICES=0
	GENV_BACKUP_ENVS=PATH:CUDA_VISIBLE_DEVICES
	GENV_ENVIRONMENT_ID=$eid
	GENV_ENVIRONMENT_NAME=two words
	GENV_ENVS=GENV_SHELL:GENV_ENVIRONMENT_ID:PATH:GENV_ENVIRONMENT_NAME:GENV_GPUS:CUDA_VISIBLE_DEVICES:CUDA_DEVICE_ORDER
	GENV_GPUS=1
	GENV_SHELL=1
	EOT
	test_cmp expect active &&
	echo CUDA_VISIBLE_DEVICES=7 >expect && test_cmp expect after &&
	printf "(genv) > \n> \n" >expect && test_cmp expect prompt &&
	echo "$SHIMS/nvidia-smi" >expect && test_cmp expect which &&
	grep -q "^Attached to GPUs at indices 0$" status &&
	grep -q "^    Name: two words$" status &&
	printf "%s\n" activate=1 inactive deactivate=1 >expect && test_cmp expect st &&
	grep -q "No available devices" err
'

test_expect_success 'fish: attach, detach, config and lock' '
	fish -c "
		genv shell --init fish | source
		genv activate --no-prompt; or exit 1
		genv attach --count 2; or exit 1
		echo \$CUDA_VISIBLE_DEVICES >cvd
		genv detach --index 1; or exit 1
		echo \$CUDA_VISIBLE_DEVICES >>cvd
		genv config name \"it'\''s \\\\ here\"; or exit 1
		echo \$GENV_ENVIRONMENT_NAME >>cvd
		genv config gpus y 2>/dev/null; echo config=\$status >>cvd
		genv lock sh -c \"exit 5\"; echo lock=\$status >>cvd
		genv deactivate; or exit 1
		set -q GENV_ENVIRONMENT_NAME; or echo gone >>cvd
	" &&
	printf "%s\n" 0,1 0 "it'\''s \\ here" config=2 lock=5 gone >expect &&
	test_cmp expect cvd
'

test_expect_success 'GENV_PREACTIVATE activates at init (bash, zsh, fish), names quoted' '
	for sh in bash zsh; do
		GENV_PREACTIVATE=1 GENV_PREACTIVATE_PROMPT=0 GENV_PREACTIVATE_GPUS=1 \
		GENV_PREACTIVATE_ENVIRONMENT_NAME="pre \$(touch pwned-pre) x" \
		$sh -c "
			PS1=\"p\"
			eval \"\$(genv shell --init)\"
			eval \"\$(genv shell --init)\"
			echo \"\$GENV_ENVIRONMENT_NAME|\$CUDA_VISIBLE_DEVICES|\$PS1\" >pre
			genv deactivate
		" &&
		echo "pre \$(touch pwned-pre) x|0|p" >expect &&
		test_cmp expect pre || exit 1
	done &&
	GENV_PREACTIVATE=1 GENV_PREACTIVATE_GPUS=1 GENV_PREACTIVATE_ENVIRONMENT_NAME="f \$(touch pwned-pre)" \
	fish -c "
		genv shell --init fish | source
		echo \"\$GENV_ENVIRONMENT_NAME|\$CUDA_VISIBLE_DEVICES\" >pre
		genv deactivate
	" &&
	echo "f \$(touch pwned-pre)|0" >expect && test_cmp expect pre &&
	test ! -e pwned-pre &&
	grep -q "\"envs\": \[\]" "$GENV_TMPDIR/envs.json"
'

test_done
