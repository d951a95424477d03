# Seconds each of the slowest GoogleTest cases took (a full `ctest -j2` of the release preset on
# 2 shared cores, twentieth session), as their COST: ctest starts the costliest tests first, so
# the long ones overlap the many short ones instead of running alone at the end. ctest reads
# these only where build/Testing/Temporary/CTestCostData.txt has no figure of its own, that is,
# on a clean clone (CI). Included after gtest_discover_tests' list (TEST_INCLUDE_FILES); a name
# that no longer exists is ignored. Refresh after a full run with
#   sort -k3 -rn build/Testing/Temporary/CTestCostData.txt | head -n 45
foreach(cost_and_name
    [=[98;ConvolutionImplementationTest.BenchmarkedShapesNeverFallBackToTheReferenceLoop]=]
    [=[49;ModelBuilderTest.WinogradComputesTheSameFunctionAsTheConvolutionPrimitives]=]
    [=[35;PytorchInteropTest.ConversionToAStateDictAndBackKeepsEveryBit]=]
    [=[34;TrainCommandTest.TwoRanksResumeExactlyAndStayBitIdentical]=]
    [=[30;TrainCommandTest.TheModelEmaIsEvaluatedCheckpointedAndResumedExactly]=]
    [=[29;PytorchInteropTest.Vgg11BnCheckpointGivesPytorchsLogits]=]
    [=[25;TrainCommandTest.OneRankWithTwoMicroBatchesTrainsBitIdenticallyToTwoRanks]=]
    [=[24;PytorchInteropTest.TheModelEmaConvertsToAStateDictBitForBit]=]
    [=[24;TrainCommandTest.TraceRecordsTheStepsAfterTheFirstTenOnEveryRank]=]
    [=[22;TrainCommandTest.ResumingAfterAStopGivesTheSameParametersAsAStraightRun]=]
    [=[21;CheckpointToPytorchTest.FromTorchRefusesWhatIsNotAStateDictAndLeavesNoFile]=]
    [=[21;RunOptionsTest.ValuesOutOfRangeAreUsageErrorsNamingTheOptionBeforeAnyWork]=]
    [=[20;TrainCommandTest.Bf16TrainsWhereTheCpuHasItAndIsRefusedByNameElsewhere]=]
    [=[19;TrainCommandTest.ACheckpointFromFourRanksResumesOnTwoAndOne]=]
    [=[19;TrainCommandTest.KillDashNineDuringCheckpointWritesLeavesAValidCheckpoint]=]
    [=[19;PytorchInteropTest.Resnet20CheckpointGivesPytorchsLogits]=]
    [=[17;CheckpointResumeTest.APreemptionInAnEpochsLastStepIsEvaluatedOnResume]=]
    [=[16;CheckpointToPytorchTest.ACheckpointOfAnotherArchitectureIsOneLineNamingTheDifference]=]
    [=[15;ModelBuilderTest.Im2colMatmulsComputeTheSameFunctionAsTheConvolutionPrimitives]=]
    [=[14;CheckpointResumeTest.SwitchingMomentumOnOrOffIsRefusedNamingTheOption]=]
    [=[14;TrainCommandTest.LossFallsAndTwoRunsWithTheSameSeedAreBitIdentical]=]
    [=[13;PlotScriptsTest.ConvoyHealthWritesBothPlotsIntoTheRunDirectory]=]
    [=[13;CheckpointResumeTest.ResumeErrorsNameTheCheckpointFile]=]
    [=[13;CheckpointToPytorchTest.AMissingOrNonHdf5CheckpointIsOneLineNamingIt]=]
    [=[13;EvalCommandTest.ReportsTheSameCountsOnOneAndFourRanks]=]
    [=[12;TrainCommandTest.StopsAfterTheFirstEvaluationReachingTheTargetAccuracy]=]
    [=[12;InitFromTest.AnotherArchitectureAMissingFileOrAnUnknownPrefixIsOneLine]=]
    [=[12;InitFromTest.AFreshRunStartsFromTheCheckpointsWeightsButTheSkippedOnes]=]
    [=[12;BenchCommandTest.NoStepTimeRunsInOneDnnReferenceLoops]=]
    [=[12;PlotScriptsTest.PlotTraceDrawsABenchTraceAndNamesAFileThatIsNotOne]=]
    [=[12;TrainCommandTest.AutoResumeSkipsACorruptNewestCheckpointAndSaysSo]=]
    [=[11;Architectures/ReluFusion.FusedAndSeparateReluGiveTheSameBits/"vgg11_bn"]=]
    [=[11;TrainCommandTest.AHungRankIsDetectedAndTheJobAborted]=]
    [=[11;PlotScriptsTest.PlotHealthAndPlotRunWritePngFiles]=]
    [=[11;TrainCommandTest.SigusrOneWhileRanksStartUpIsAPreemptionNotAKill]=]
    [=[10;TrainCommandTest.TestAndTrainingImagesOfDifferentSizesAreRefusedNamingTheOptions]=]
    [=[10;CheckpointResumeTest.AnotherEpochLengthIsRefusedAndOtherChangedOptionsAreListed]=]
    [=[10;Architectures/ReluFusion.FusedAndSeparateReluGiveTheSameBits/"vgg11"]=]
    [=[10;PlotScriptsTest.ATornLastLineIsSkippedWithAWarning]=]
    [=[9;CheckpointResumeTest.ACheckpointAtOrPastTheRunsEndTrainsNothingAndSaysSo]=]
    [=[9;Architectures/InputGradient.SkippingItLeavesEveryParameterGradientAndSavesOneCall/"vgg11"]=]
    )
  list(GET cost_and_name 0 cost)
  list(GET cost_and_name 1 name)
  set_tests_properties("${name}" PROPERTIES COST "${cost}")
endforeach()
