// Demo assembly for the iisbitness example server; built by tools/build_demo.sh with mcs.
using System.Reflection;
[assembly: AssemblyTitle("Contoso.Web")]
[assembly: AssemblyVersion("1.0.0.0")]
namespace Demo { public static class ContosoWeb { public static string Name() { return "Contoso.Web"; } } }
