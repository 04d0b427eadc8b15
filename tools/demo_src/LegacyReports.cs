// Demo assembly for the iisbitness example server; built by tools/build_demo.sh with mcs.
using System.Reflection;
[assembly: AssemblyTitle("LegacyReports")]
[assembly: AssemblyVersion("1.0.0.0")]
namespace Demo { public static class LegacyReports { public static string Name() { return "LegacyReports"; } } }
