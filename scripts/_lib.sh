# Shared by scripts/demo and scripts/test: find a Python, make a virtualenv with what it needs.

find_python() {
    # find_python 3.13 -> a path to a working python3.13, or nothing.
    local version=$1 candidate
    for candidate in "python$version" \
        "$(pyenv root 2>/dev/null)/versions/$(pyenv versions --bare 2>/dev/null | grep -E "^${version//./\\.}(\.[0-9]+)?$" | tail -n 1)/bin/python$version"; do
        if "$candidate" -c 'import sys' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    return 1
}

make_venv() {
    # make_venv DIR PYTHON PIP-ARGS... : create DIR if needed, then install into it.
    local dir=$1 python=$2
    shift 2
    if [ ! -x "$dir/bin/python" ]; then
        echo "Creating $dir with $("$python" --version)"
        "$python" -m venv "$dir"
        "$dir/bin/python" -m pip install --quiet --quiet --upgrade pip
    fi
    "$dir/bin/python" -m pip install --quiet --quiet "$@"
}
