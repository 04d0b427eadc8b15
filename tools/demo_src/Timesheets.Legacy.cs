// Demo assembly for the iisbitness example server; built by tools/build_demo.sh with mcs.
using System.Reflection;
[assembly: AssemblyTitle("Timesheets.Legacy")]
[assembly: AssemblyVersion("1.0.0.0")]
namespace Demo { public static class TimesheetsLegacy { public static string Name() { return "Timesheets.Legacy"; } } }
