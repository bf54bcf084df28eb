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

ensure_redis_server() {
    # The worker tests start their own redis-server on a free port; install it if missing.
    command -v redis-server >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing redis-server (Debian package) for the worker tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "The worker tests need redis-server on PATH: sudo apt-get install redis-server" >&2
        return 1
    fi
}

# The engines the engine tier runs the exports on (tests/engines), with Debian's packages.
ENGINE_PACKAGES=(docker.io docker-compose podman catatonit mmdebstrap uidmap fuse-overlayfs slirp4netns iptables nftables)

ensure_engines() {
    # ensure_engines: install the engines' Debian packages that are missing (as root).
    local missing=() package
    for package in "${ENGINE_PACKAGES[@]}"; do
        dpkg-query --show --showformat='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing ${missing[*]} (Debian packages) for the engine tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "The engine tests need root and these Debian packages: ${missing[*]}" >&2
        return 1
    fi
}

ensure_postgresql() {
    # The procrastinate tests start their own PostgreSQL (initdb in a temporary folder) with
    # the binaries of Debian's package, which keeps them out of PATH; install it if missing.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
    command -v initdb >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing postgresql (Debian package) for the procrastinate tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "The procrastinate tests need PostgreSQL's initdb: sudo apt-get install postgresql" >&2
        return 1
    fi
}
