using Mono.Cecil;

namespace EmotionML.BuildTools;

/// <summary>
/// Writes copies of assemblies whose types and members are all public. They are used only at compile time; at run
/// time the real assemblies load and <c>IgnoresAccessChecksToAttribute</c> lets the CLR accept the calls.
/// </summary>
internal static class Publicizer
{
    public static int Run(string outputDirectory, string[] inputs)
    {
        Directory.CreateDirectory(outputDirectory);
        foreach (var input in inputs)
        {
            var output = Path.Combine(outputDirectory, Path.GetFileName(input));
            if (File.Exists(output) && File.GetLastWriteTimeUtc(output) >= File.GetLastWriteTimeUtc(input))
                continue;
            var resolver = new DefaultAssemblyResolver();
            resolver.AddSearchDirectory(Path.GetDirectoryName(input)!);
            using var module = ModuleDefinition.ReadModule(input, new ReaderParameters { AssemblyResolver = resolver });
            foreach (var type in module.GetTypes())
                Publicize(type);
            var temp = output + ".tmp";
            module.Write(temp);
            File.Move(temp, output, overwrite: true);
            Console.WriteLine($"publicized {Path.GetFileName(input)}");
        }
        return 0;
    }

    private static void Publicize(TypeDefinition type)
    {
        if (type.IsNested)
            type.IsNestedPublic = true;
        else
            type.IsPublic = true;
        foreach (var method in type.Methods)
        {
            // Keep overrides' accessibility consistent with base members outside this assembly.
            if (method.IsVirtual && method.IsFamily) continue;
            method.IsPublic = true;
        }
        var eventNames = new HashSet<string>(type.Events.Select(e => e.Name));
        foreach (var field in type.Fields)
        {
            if (eventNames.Contains(field.Name)) continue; // event backing fields would clash with the events
            field.IsPublic = true;
        }
    }
}
