<#
.SYNOPSIS
    Maintainers' end-to-end test of the live scan and `iisbitness collect` on a real Windows machine with IIS.

.DESCRIPTION
    NOT RUN BY CI: the project's CI runs on Linux and cannot run IIS. Run it by hand, elevated, on a disposable
    Windows Server (2016 or later) or Windows 10/11 test machine: it installs IIS, creates application pools and
    sites, and leaves them in place (-Cleanup removes them).

    It sets up the mismatches the scan exists for, with the real compiled fixtures of tests/fixtures/pe/bin
    (built by tests/fixtures/pe/build.sh):
      - Pool64 (64-bit) and Pool32 (enable32BitAppOnWin64), a site each;
      - an x86 global module without a bitness preCondition (module_x86.dll): every 64-bit worker fails to
        start (W3SVC-WP 2280, then HTTP 503), expected finding global-module-arch in Pool64;
      - an x64 global module guarded by preCondition="bitness64" (module_x64.dll): no finding;
      - an x86 ISAPI extension (isapi_ext_x86.dll) mapped in the 64-bit pool's site: HTTP 500.0 on mapped
        requests, expected finding isapi-extension-arch.
    Then it requests both sites (expecting 503 from the 64-bit site while the x86 module is registered), runs
    the live scan (JSON), `iisbitness collect -o server.zip --event-log Application`, and `iisbitness scan
    server.zip`, and checks that the expected findings are there and that both scans give the same findings.

.PARAMETER Repo
    The iisbitness checkout (its tests\fixtures\pe\bin holds the fixtures). Default: this script's parent folder.

.PARAMETER Tool
    The iisbitness command (pip install <repo> puts it on the PATH). Default: iisbitness.

.PARAMETER Python
    The Python that has iisbitness installed (for the `--cache` identity and ACL checks). Default: python.

.PARAMETER Cleanup
    Remove the pools, sites, modules and files this script created, and stop.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File tools\windows-live-test.ps1
#>
[CmdletBinding()]
param(
    [string]$Repo = (Split-Path -Parent $PSScriptRoot),
    [string]$Tool = "iisbitness",
    [string]$Python = "python",
    [switch]$Cleanup
)

$ErrorActionPreference = "Stop"
$Root = "C:\iisbitness-live-test"
$Bin = Join-Path $Repo "tests\fixtures\pe\bin"
$AppCmd = "$env:windir\System32\inetsrv\appcmd.exe"

function Step([string]$Text) { Write-Host "== $Text" -ForegroundColor Cyan }
function Fail([string]$Text) { Write-Host "FAIL: $Text" -ForegroundColor Red; exit 1 }

if (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole(
        [Security.Principal.WindowsBuiltInRole]::Administrator)) { Fail "run elevated (as Administrator)" }

if ($Cleanup) {
    Step "removing what this script created"
    & $AppCmd delete site "IisBitness64" 2>$null
    & $AppCmd delete site "IisBitness32" 2>$null
    & $AppCmd delete apppool "Pool64" 2>$null
    & $AppCmd delete apppool "Pool32" 2>$null
    & $AppCmd uninstall module "IisBitnessX86" 2>$null
    & $AppCmd uninstall module "IisBitnessX64" 2>$null
    Remove-Item -Recurse -Force $Root -ErrorAction SilentlyContinue
    exit 0
}

Step "installing IIS (Web-Server, ISAPI extensions, ASP.NET 4.x)"
if (Get-Command Install-WindowsFeature -ErrorAction SilentlyContinue) {
    Install-WindowsFeature Web-Server, Web-ISAPI-Ext, Web-ISAPI-Filter, Web-Asp-Net45, Web-Mgmt-Console | Out-Null
} else {
    Enable-WindowsOptionalFeature -Online -NoRestart -All -FeatureName IIS-WebServerRole, IIS-ISAPIExtensions,
        IIS-ISAPIFilter, IIS-ASPNET45, IIS-ManagementConsole | Out-Null
}

Step "copying the fixtures to $Root"
New-Item -ItemType Directory -Force "$Root\modules", "$Root\site64", "$Root\site32" | Out-Null
Copy-Item "$Bin\module_x86.dll" "$Root\modules\vendor_x86.dll"
Copy-Item "$Bin\module_x64.dll" "$Root\modules\vendor_x64.dll"
Copy-Item "$Bin\isapi_ext_x86.dll" "$Root\site64\legacy.dll"
Set-Content "$Root\site64\index.htm" "64"
Set-Content "$Root\site32\index.htm" "32"

Step "pools, sites, modules and the ISAPI extension"
& $AppCmd add apppool /name:"Pool64" /enable32BitAppOnWin64:false | Out-Null
& $AppCmd add apppool /name:"Pool32" /enable32BitAppOnWin64:true | Out-Null
& $AppCmd add site /name:"IisBitness64" /bindings:"http/*:8064:" /physicalPath:"$Root\site64" | Out-Null
& $AppCmd add site /name:"IisBitness32" /bindings:"http/*:8032:" /physicalPath:"$Root\site32" | Out-Null
& $AppCmd set app "IisBitness64/" /applicationPool:"Pool64" | Out-Null
& $AppCmd set app "IisBitness32/" /applicationPool:"Pool32" | Out-Null
& $AppCmd install module /name:"IisBitnessX86" /image:"$Root\modules\vendor_x86.dll" | Out-Null
& $AppCmd install module /name:"IisBitnessX64" /image:"$Root\modules\vendor_x64.dll" /preCondition:"bitness64" | Out-Null
& $AppCmd set config /section:isapiCgiRestriction "/+[path='$Root\site64\legacy.dll',allowed='True']" | Out-Null
# NOTE: the handlers section is locked at server level (overrideModeDefault="Deny"): written to a <location>
& $AppCmd set config "IisBitness64" /section:handlers /accessPolicy:"Read, Script, Execute" /commit:apphost | Out-Null
& $AppCmd set config "IisBitness64" /section:handlers "/+[name='Legacy',path='*.legacy',verb='*',modules='IsapiModule',scriptProcessor='$Root\site64\legacy.dll',resourceType='Unspecified']" /commit:apphost | Out-Null

Step "requests: the 64-bit site fails (x86 global module), the 32-bit one serves"
function Status([string]$Url) {
    try { return (Invoke-WebRequest -UseBasicParsing $Url -TimeoutSec 30).StatusCode }
    catch { if ($_.Exception.Response) { return [int]$_.Exception.Response.StatusCode } return -1 }
}
$s64 = Status "http://localhost:8064/index.htm"
$s32 = Status "http://localhost:8032/index.htm"
Write-Host "IisBitness64: $s64 (expect 503 after rapid-fail, or 500 on the first requests); IisBitness32: $s32 (expect 200)"

Step "live scan"
Push-Location $Root
& $Tool scan --format json -o live.json --fail-on never
if ($LASTEXITCODE -ne 0) { Fail "live scan exited $LASTEXITCODE" }
& $Tool collect -o server.zip --event-log Application
if ($LASTEXITCODE -ne 0) { Fail "collect exited $LASTEXITCODE" }
& $Tool scan server.zip --format json -o collected.json --fail-on never
if ($LASTEXITCODE -ne 0) { Fail "scan server.zip exited $LASTEXITCODE" }
Pop-Location

$live = Get-Content "$Root\live.json" -Raw | ConvertFrom-Json
$copy = Get-Content "$Root\collected.json" -Raw | ConvertFrom-Json
$rules = $live.findings | ForEach-Object { "$($_.rule) $($_.pool)" }
Write-Host ($rules -join "`n")
if (-not ($rules -contains "global-module-arch Pool64")) { Fail "no global-module-arch finding for Pool64" }
if (-not ($live.findings | Where-Object { $_.rule -eq "isapi-extension-arch" })) { Fail "no isapi-extension-arch finding" }
if ($live.findings | Where-Object { $_.binary -like "*vendor_x64.dll" }) { Fail "the bitness64 x64 module was reported" }
# NOTE: scan/2 writes each fix once, in the document's fixes table (findings name them by number)
$a = ($live.findings | ConvertTo-Json -Depth 20) + ($live.fixes | ConvertTo-Json -Depth 20)
$b = ($copy.findings | ConvertTo-Json -Depth 20) + ($copy.fixes | ConvertTo-Json -Depth 20)
if ($a -ne $b) { Fail "scan server.zip differs from the live scan (see $Root\live.json, $Root\collected.json)" }

Step "fix --apply keeps a file's ACL (image/windows.copy_file_dacl)"
$aclFrom = Join-Path $Root "acl-original.config"
$aclTo = Join-Path $Root "acl-new.config"
Set-Content -LiteralPath $aclFrom -Value "<configuration />"
Set-Content -LiteralPath $aclTo -Value "<configuration />"
& icacls.exe $aclFrom /inheritance:r /grant:r "*S-1-5-32-544:(F)" "*S-1-5-18:(F)" | Out-Null
if ($LASTEXITCODE -ne 0) { Fail "icacls could not set an explicit ACL on $aclFrom" }
& $Python -c "import sys; from pathlib import Path; from iisbitness.image.windows import copy_file_dacl; copy_file_dacl(Path(sys.argv[1]), Path(sys.argv[2]))" $aclFrom $aclTo
if ($LASTEXITCODE -ne 0) { Fail "copy_file_dacl failed" }
$want = (Get-Acl -LiteralPath $aclFrom).GetSecurityDescriptorSddlForm("Access")
$got = (Get-Acl -LiteralPath $aclTo).GetSecurityDescriptorSddlForm("Access")
if ($want -ne $got) { Fail "ACL not copied: $want against $got" }
Step "--cache: a DLL overwritten in place, same size and write time, is a new identity (read again)"
# NOTE: os.stat's st_ctime is the creation time on Windows, which an in-place overwrite keeps; the identity takes the
# file system's change time (FILE_BASIC_INFO.ChangeTime) instead (iisbitness.image.windows.change_time_ns)
$Probe = Join-Path $Root "modules\cache_probe.dll"
Copy-Item "$Bin\module_x86.dll" $Probe
Set-Content (Join-Path $Root "identity_check.py") @'
import os, sys
from iisbitness.pe.facts import FileIdentity
path = sys.argv[1]
before, st = FileIdentity.of(path), os.stat(path)
with open(path, "r+b") as f:
    data = f.read()
    f.seek(0)
    f.write(data[::-1])
os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
after = FileIdentity.of(path)
print(before, after, sep="\n")
same_kept = (before.size, before.mtime_ns, before.inode) == (after.size, after.mtime_ns, after.inode)
sys.exit(0 if same_kept and before != after else 1)
'@
& $Python (Join-Path $Root "identity_check.py") $Probe
if ($LASTEXITCODE -ne 0) { Fail "an in-place overwrite keeping size and write time kept the file's identity (--cache would serve it stale)" }
Step "OK: live scan and scan of the collected zip agree; a file's ACL is copied; run with -Cleanup to remove the test setup"
