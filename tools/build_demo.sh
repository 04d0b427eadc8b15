#!/usr/bin/env bash
# Builds the binaries of the example server images shipped in src/iisbitness/demo/.
# Native DLLs/EXEs come from the fixture sources (tests/fixtures/pe/src) built by
# tests/fixtures/pe/build.sh with mingw-w64 and clang+lld; managed assemblies are compiled here
# with mono-mcs from tools/demo_src so that each has its real assembly name.
# Needs: mono-mcs (mcs), and the fixtures already built (run tests/fixtures/pe/build.sh first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
fx="$repo/tests/fixtures/pe/bin"
demo="$repo/src/iisbitness/demo"
img="$demo/contoso-iis10"

put() {  # put SOURCE DEST (relative to the image)
  mkdir -p "$(dirname "$img/$2")"
  cp "$fx/$1" "$img/$2"
}
mcs_lib() {  # mcs_lib NAME PLATFORM DEST_DIR
  mkdir -p "$img/$3"
  mcs -nologo -deterministic -target:library -platform:"$2" -out:"$img/$3/$1.dll" "$here/demo_src/$1.cs"
}

# IIS's own modules: IIS ships a 64-bit copy in System32\inetsrv and a 32-bit one in SysWOW64\inetsrv.
put module_x64.dll   Windows/System32/inetsrv/cachuri.dll
put module_x86.dll   Windows/SysWOW64/inetsrv/cachuri.dll
put isapi_ext_x64.dll Windows/System32/inetsrv/asp.dll
put isapi_ext_x86.dll Windows/SysWOW64/inetsrv/asp.dll
# A third-party global module that exists only as 32-bit, registered without a bitness preCondition.
put module_x86.dll   "Program Files (x86)/Fabrikam/VendorAuth/vendorauth.dll"
# A correct bitness32 / bitness64 pair.
put module_x86.dll   "Program Files (x86)/ImageResizer/resizer.dll"
put module_x64.dll   "Program Files/ImageResizer/resizer.dll"
# ANCM V2 as its installer lays it out: %ProgramFiles% path, no preCondition, a copy per bitness.
put module_x64.dll   "Program Files/IIS/Asp.Net Core Module/V2/aspnetcorev2.dll"
put module_x86.dll   "Program Files (x86)/IIS/Asp.Net Core Module/V2/aspnetcorev2.dll"
# West Wind Web Connection style 32-bit ISAPI extension.
put isapi_ext_x86.dll inetpub/wconnect/bin/wc.dll
# A 32-bit FastCGI program (runs in its own process: no finding).
put fcgi_x86.exe     PHP/php-cgi.exe

# Managed assemblies in bin folders.
mcs_lib Contoso.Web        anycpu inetpub/wwwroot/bin
mcs_lib LegacyReports      x86    inetpub/wwwroot/bin
mcs_lib Legacy.Core        anycpu inetpub/legacy/bin
mcs_lib Intranet.Imaging   x64    inetpub/intranet/bin
mcs_lib Timesheets.Legacy  x86    inetpub/intranet/timesheets/bin
echo "demo binaries built in $img"
