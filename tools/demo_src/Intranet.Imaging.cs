// Demo assembly for the iisbitness example server; built by tools/build_demo.sh with mcs.
using System.Reflection;
[assembly: AssemblyTitle("Intranet.Imaging")]
[assembly: AssemblyVersion("1.0.0.0")]
namespace Demo { public static class IntranetImaging { public static string Name() { return "Intranet.Imaging"; } } }
