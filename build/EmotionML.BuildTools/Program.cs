using EmotionML.BuildTools;

return args switch
{
    ["publicize", var output, .. var inputs] when inputs.Length > 0 => Publicizer.Run(output, inputs),
    ["weaken-glibcxx", .. var files] when files.Length > 0 => GlibcxxWeakener.Run(files),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: EmotionML.BuildTools publicize <outDir> <assembly.dll>...");
    Console.Error.WriteLine("       EmotionML.BuildTools weaken-glibcxx <lib.so>...");
    return 2;
}
