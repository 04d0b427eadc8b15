// Catalog.Web: an ASP.NET 4.x app that P/Invokes two native libraries shipped in bin.
using System.Runtime.InteropServices;

namespace Catalog.Web
{
    public static class NativeMethods
    {
        [DllImport("sqlite3.dll")] public static extern int sqlite3_libversion_number();
        [DllImport("libsodium.dll")] public static extern int sodium_init();
    }
}
