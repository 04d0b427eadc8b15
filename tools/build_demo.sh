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
# The other IIS modules the configuration names, in both WOW64 views: the image holds these folders with
# binaries in them, so an absent one would be missing on the server (binary-missing, issue 12).
for m in static isapi filter iisfcgi; do
  put module_x64.dll "Windows/System32/inetsrv/$m.dll"
  put module_x86.dll "Windows/SysWOW64/inetsrv/$m.dll"
done
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

# --- IIS 6 example server (issue 4): Windows Server 2003 x64, IIS 5 isolation mode + Enable32BitAppOnWin64. ---
# MetaBase.xml is kept in the repository (src/iisbitness/demo/w2003-iis6/Windows/System32/inetsrv/MetaBase.xml).
img6="$demo/w2003-iis6"
put6() {  # put6 SOURCE DEST (relative to the IIS 6 image)
  mkdir -p "$(dirname "$img6/$2")"
  cp "$fx/$1" "$img6/$2"
}
# ASP.NET 2.0 in both Framework folders; the metabase names the 32-bit (Framework) copies, as
# 'aspnet_regiis -i' run from Framework leaves them.
put6 filter_x86.dll    Windows/Microsoft.NET/Framework/v2.0.50727/aspnet_filter.dll
put6 isapi_ext_x86.dll Windows/Microsoft.NET/Framework/v2.0.50727/aspnet_isapi.dll
put6 filter_x64.dll    Windows/Microsoft.NET/Framework64/v2.0.50727/aspnet_filter.dll
put6 isapi_ext_x64.dll Windows/Microsoft.NET/Framework64/v2.0.50727/aspnet_isapi.dll
# IIS's own asp.dll, one copy per bitness (SysWOW64 present: the OS is x64).
put6 isapi_ext_x64.dll Windows/System32/inetsrv/asp.dll
put6 isapi_ext_x86.dll Windows/SysWOW64/inetsrv/asp.dll
# A third-party site filter that exists only as 64-bit, and Web Connection's 32-bit-only wc.dll.
put6 filter_x64.dll    "Program Files/Contoso/Rewrite64/rewrite64.dll"
put6 isapi_ext_x86.dll inetpub/wconnect/wc.dll
echo "IIS 6 demo binaries built in $img6"

# --- Issue 6: ASP.NET Core in-process, native libraries in bin, in-proc COM for classic ASP ---------
# Storefront: a self-contained ASP.NET Core app published for win-x86, hosted in process in the
# 64-bit pool StorefrontCore (HTTP 500.32).
put apphost_x86.exe                 inetpub/storefront/Storefront.exe
put hostfxr_x86.dll                 inetpub/storefront/hostfxr.dll
put coreclr_x86.dll                 inetpub/storefront/coreclr.dll
put aspnetcorev2_inprocess_x86.dll  inetpub/storefront/aspnetcorev2_inprocess.dll
# Catalog: an x86-only native library at the bin root (warning), and one whose package keeps the
# runtimes\win-x64\native layout (no finding).
mcs_lib Catalog.Web anycpu inetpub/catalog/bin
put nativelib_x86.dll inetpub/catalog/bin/sqlite3.dll
put nativelib_x86.dll inetpub/catalog/bin/libsodium.dll
put nativelib_x64.dll inetpub/catalog/bin/runtimes/win-x64/native/libsodium.dll
put nativelib_x86.dll inetpub/catalog/bin/runtimes/win-x86/native/libsodium.dll
# Orders: classic ASP creating COM objects; the SOFTWARE hive is built by tools/build_com_hive.py
# (seed REGF + hivex) into tests/fixtures/registry/SOFTWARE.
mkdir -p "$img/Windows/System32/config"
cp "$repo/tests/fixtures/registry/SOFTWARE" "$img/Windows/System32/config/SOFTWARE"
put comserver_x86.dll "Program Files (x86)/Contoso/PdfStamp/pdfstamp.dll"
put comserver_x64.dll "Program Files/Contoso/Mailer/mailer.dll"
put comserver_x86.dll "Program Files (x86)/Contoso/Mailer/mailer.dll"
put comserver_x86.dll "Program Files/Contoso/Barcode/barcode.dll"
echo "issue 6 demo binaries built in $img"
