/*
 * kvsprobe: streams the producer SDK's H.264 sample frames to an endpoint
 * override (kvsemu) with static credentials and default stream settings, and
 * reports what happened on one RESULT line.
 *
 *   AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. AWS_REGION=.. \
 *   kvsprobe ENDPOINT STREAM FRAMES_DIR [SECONDS=10] [TAGS=1] [EOFR=0] [METADATA=0]
 *
 * FRAMES_DIR holds frame-001.h264 .. frame-403.h264 (the SDK's
 * samples/h264SampleFrames). TAGS=1 gives the stream two tags, so that the
 * SDK calls TagStream (or CreateStream with Tags). EOFR=1 puts an
 * end-of-fragment frame before each key frame but the first, as the SDK's
 * realtime sample does; the default 0 is what most applications (kvssink, the
 * C++ SDK without explicit EOFR) do. METADATA=N puts N fragment metadata
 * pairs (putKinesisVideoFragmentMetadata, non-persistent) after each key
 * frame, as the realtime sample does with 9. The log level is AWS_KVS_LOG_LEVEL
 * (1 verbose .. 7 silent, default 4 warn).
 */
#include <com/amazonaws/kinesis/video/cproducer/Include.h>
#include <stdio.h>
#include <stdlib.h>

#define NUM_FRAME_FILES    403
#define KEY_FRAME_INTERVAL 45
#define FPS                25

static volatile UINT32 gAcks[FRAGMENT_ACK_TYPE_IDLE + 1];
static volatile UINT32 gStreamErrors, gStale, gDroppedFrames, gDroppedFragments;
static volatile STATUS gLastStreamError;
static UINT64 gStart;

static DOUBLE sinceStartMs(VOID)
{
    return (DOUBLE) (GETTIME() - gStart) / HUNDREDS_OF_NANOS_IN_A_MILLISECOND;
}

static STATUS onAck(UINT64 customData, STREAM_HANDLE stream, UPLOAD_HANDLE upload, PFragmentAck pAck)
{
    UNUSED_PARAM(customData);
    UNUSED_PARAM(stream);
    if (pAck->ackType <= FRAGMENT_ACK_TYPE_IDLE) {
        gAcks[pAck->ackType]++;
    }
    fprintf(stderr, "kvsprobe: %9.1f ms ack upload=%" PRIu64 " type=%d timecode=%" PRIu64 " seq=%s result=%d\n", sinceStartMs(), upload,
            pAck->ackType, pAck->timestamp, pAck->sequenceNumber, pAck->result);
    return STATUS_SUCCESS;
}

static STATUS onStreamError(UINT64 customData, STREAM_HANDLE stream, UPLOAD_HANDLE upload, UINT64 timecode, STATUS status)
{
    UNUSED_PARAM(customData);
    UNUSED_PARAM(stream);
    gStreamErrors++;
    gLastStreamError = status;
    fprintf(stderr, "kvsprobe: %9.1f ms stream error upload=%" PRIu64 " timecode=%" PRIu64 " status=0x%08x\n", sinceStartMs(), upload, timecode,
            status);
    return STATUS_SUCCESS;
}

static STATUS onStale(UINT64 customData, STREAM_HANDLE stream, UINT64 lastAckDuration)
{
    UNUSED_PARAM(customData);
    UNUSED_PARAM(stream);
    gStale++;
    fprintf(stderr, "kvsprobe: %9.1f ms connection stale, last ack %" PRIu64 " ms ago\n", sinceStartMs(),
            lastAckDuration / HUNDREDS_OF_NANOS_IN_A_MILLISECOND);
    return STATUS_SUCCESS;
}

static STATUS onDroppedFrame(UINT64 customData, STREAM_HANDLE stream, UINT64 timecode)
{
    UNUSED_PARAM(customData);
    UNUSED_PARAM(stream);
    UNUSED_PARAM(timecode);
    gDroppedFrames++;
    return STATUS_SUCCESS;
}

static STATUS onDroppedFragment(UINT64 customData, STREAM_HANDLE stream, UINT64 timecode)
{
    UNUSED_PARAM(customData);
    UNUSED_PARAM(stream);
    UNUSED_PARAM(timecode);
    gDroppedFragments++;
    return STATUS_SUCCESS;
}

static STATUS readFrame(PCHAR dir, UINT32 index, PBYTE buf, UINT32 bufSize, PUINT32 pSize)
{
    CHAR path[MAX_PATH_LEN + 1];
    UINT64 size = bufSize;
    STATUS retStatus;

    SNPRINTF(path, MAX_PATH_LEN, "%s/frame-%03u.h264", dir, index % NUM_FRAME_FILES + 1);
    // readFile reads the file only into a buffer at least as big, and does not set the size: ask for it first.
    if (STATUS_FAILED(retStatus = readFile(path, TRUE, NULL, &size))) {
        return retStatus;
    }
    if (size > bufSize) {
        return STATUS_BUFFER_TOO_SMALL;
    }
    retStatus = readFile(path, TRUE, buf, &size);
    *pSize = (UINT32) size;
    return retStatus;
}

INT32 main(INT32 argc, CHAR* argv[])
{
    PDeviceInfo pDeviceInfo = NULL;
    PStreamInfo pStreamInfo = NULL;
    PClientCallbacks pClientCallbacks = NULL;
    StreamCallbacks probeCallbacks;
    CLIENT_HANDLE clientHandle = INVALID_CLIENT_HANDLE_VALUE;
    STREAM_HANDLE streamHandle = INVALID_STREAM_HANDLE_VALUE;
    STATUS createStatus = STATUS_SUCCESS, stopStatus = STATUS_SUCCESS, putStatus = STATUS_SUCCESS;
    PCHAR accessKey, secretKey, sessionToken, region, logLevel;
    PCHAR endpoint, streamName, framesDir;
    UINT64 seconds = 10, stopAt, t0, createMs = 0, stopMs = 0;
    BOOL withTags = TRUE, withEofr = FALSE;
    static BYTE frameBuffer[200000];
    Frame frame, eofr = EOFR_FRAME_INITIALIZER;
    UINT32 frameIndex = 0, framesPut = 0, fragmentsStarted = 0, numMetadata = 0, m;
    CHAR metaName[64], metaValue[64];
    Tag tags[2];

    setvbuf(stdout, NULL, _IOLBF, 0); // the SDK logs to standard output: keep it in step with standard error
    if (argc < 4) {
        fprintf(stderr, "usage: %s ENDPOINT STREAM FRAMES_DIR [SECONDS=10] [TAGS=1] [EOFR=0] [METADATA=0]\n", argv[0]);
        return 2;
    }
    endpoint = argv[1];
    streamName = argv[2];
    framesDir = argv[3];
    if (argc > 4) {
        seconds = strtoull(argv[4], NULL, 10);
    }
    if (argc > 5) {
        withTags = atoi(argv[5]) != 0;
    }
    if (argc > 6) {
        withEofr = atoi(argv[6]) != 0;
    }
    if (argc > 7) {
        numMetadata = (UINT32) atoi(argv[7]);
    }
    accessKey = getenv("AWS_ACCESS_KEY_ID");
    secretKey = getenv("AWS_SECRET_ACCESS_KEY");
    sessionToken = getenv("AWS_SESSION_TOKEN");
    region = getenv("AWS_REGION");
    if (region == NULL) {
        region = (PCHAR) DEFAULT_AWS_REGION;
    }
    if (accessKey == NULL || secretKey == NULL) {
        fprintf(stderr, "kvsprobe: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set\n");
        return 2;
    }
    gStart = GETTIME();

    if (STATUS_FAILED(createStatus = createDefaultDeviceInfo(&pDeviceInfo))) {
        goto Done;
    }
    pDeviceInfo->clientInfo.loggerLogLevel = LOG_LEVEL_WARN;
    if ((logLevel = getenv("AWS_KVS_LOG_LEVEL")) != NULL) {
        pDeviceInfo->clientInfo.loggerLogLevel = (UINT32) atoi(logLevel);
    }

    // Default realtime settings: 2 h retention, 120 s buffer, H.264, no other change.
    if (STATUS_FAILED(createStatus = createRealtimeVideoStreamInfoProviderWithCodecs(streamName, 2 * HUNDREDS_OF_NANOS_IN_AN_HOUR,
                                                                                     120 * HUNDREDS_OF_NANOS_IN_A_SECOND, VIDEO_CODEC_ID_H264,
                                                                                     &pStreamInfo))) {
        goto Done;
    }
    if (withTags) {
        tags[0].version = TAG_CURRENT_VERSION;
        tags[0].name = (PCHAR) "owner";
        tags[0].value = (PCHAR) "kvsprobe";
        tags[1].version = TAG_CURRENT_VERSION;
        tags[1].name = (PCHAR) "purpose";
        tags[1].value = (PCHAR) "emulator test";
        pStreamInfo->tagCount = 2;
        pStreamInfo->tags = tags;
    }

    if (STATUS_FAILED(createStatus = createDefaultCallbacksProviderWithAwsCredentialsAndEndpointOverride(
                          accessKey, secretKey, sessionToken, MAX_UINT64, region, NULL, NULL, NULL, endpoint, &pClientCallbacks))) {
        goto Done;
    }
    MEMSET(&probeCallbacks, 0, SIZEOF(probeCallbacks));
    probeCallbacks.version = STREAM_CALLBACKS_CURRENT_VERSION;
    probeCallbacks.fragmentAckReceivedFn = onAck;
    probeCallbacks.streamErrorReportFn = onStreamError;
    probeCallbacks.streamConnectionStaleFn = onStale;
    probeCallbacks.droppedFrameReportFn = onDroppedFrame;
    probeCallbacks.droppedFragmentReportFn = onDroppedFragment;
    if (STATUS_FAILED(createStatus = addStreamCallbacks(pClientCallbacks, &probeCallbacks))) {
        goto Done;
    }
    if (STATUS_FAILED(createStatus = createKinesisVideoClient(pDeviceInfo, pClientCallbacks, &clientHandle))) {
        goto Done;
    }
    t0 = GETTIME();
    createStatus = createKinesisVideoStreamSync(clientHandle, pStreamInfo, &streamHandle);
    createMs = (GETTIME() - t0) / HUNDREDS_OF_NANOS_IN_A_MILLISECOND;
    fprintf(stderr, "kvsprobe: %9.1f ms createKinesisVideoStreamSync 0x%08x after %" PRIu64 " ms\n", sinceStartMs(), createStatus, createMs);
    if (STATUS_FAILED(createStatus)) {
        goto Done;
    }

    frame.version = FRAME_CURRENT_VERSION;
    frame.trackId = DEFAULT_VIDEO_TRACK_ID;
    frame.duration = HUNDREDS_OF_NANOS_IN_A_SECOND / FPS;
    frame.decodingTs = GETTIME();
    frame.presentationTs = frame.decodingTs;
    frame.frameData = frameBuffer;
    stopAt = GETTIME() + seconds * HUNDREDS_OF_NANOS_IN_A_SECOND;
    while (GETTIME() < stopAt) {
        frame.index = frameIndex;
        frame.flags = (frameIndex % NUM_FRAME_FILES) % KEY_FRAME_INTERVAL == 0 ? FRAME_FLAG_KEY_FRAME : FRAME_FLAG_NONE;
        if (STATUS_FAILED(putStatus = readFrame(framesDir, frameIndex, frameBuffer, SIZEOF(frameBuffer), &frame.size))) {
            break;
        }
        if (frame.flags == FRAME_FLAG_KEY_FRAME) {
            if (withEofr && frameIndex > 0) {
                putKinesisVideoFrame(streamHandle, &eofr);
            }
            fragmentsStarted++;
        }
        if (STATUS_FAILED(putStatus = putKinesisVideoFrame(streamHandle, &frame))) {
            break;
        }
        framesPut++;
        if (frame.flags == FRAME_FLAG_KEY_FRAME) {
            for (m = 1; m <= numMetadata; m++) {
                SNPRINTF(metaName, SIZEOF(metaName), "PROBE_KEY_%u", m);
                SNPRINTF(metaValue, SIZEOF(metaValue), "frame %u value %u", frameIndex, m);
                if (STATUS_FAILED(putStatus = putKinesisVideoFragmentMetadata(streamHandle, metaName, metaValue, FALSE))) {
                    break;
                }
            }
            if (STATUS_FAILED(putStatus)) {
                break;
            }
        }
        THREAD_SLEEP(frame.duration);
        frame.decodingTs += frame.duration;
        frame.presentationTs = frame.decodingTs;
        frameIndex++;
    }
    if (withEofr) {
        putKinesisVideoFrame(streamHandle, &eofr);
    }
    fprintf(stderr, "kvsprobe: %9.1f ms put %u frames (%u key frames), put status 0x%08x; stopping\n", sinceStartMs(), framesPut,
            fragmentsStarted, putStatus);
    t0 = GETTIME();
    stopStatus = stopKinesisVideoStreamSync(streamHandle);
    stopMs = (GETTIME() - t0) / HUNDREDS_OF_NANOS_IN_A_MILLISECOND;
    fprintf(stderr, "kvsprobe: %9.1f ms stopKinesisVideoStreamSync 0x%08x after %" PRIu64 " ms\n", sinceStartMs(), stopStatus, stopMs);

Done:
    printf("RESULT ok=%d create_status=0x%08x create_ms=%" PRIu64 " frames_put=%u key_frames=%u put_status=0x%08x stop_status=0x%08x stop_ms=%" PRIu64
           " acks_buffering=%u acks_received=%u acks_persisted=%u acks_error=%u acks_idle=%u stream_errors=%u last_error=0x%08x stale=%u "
           "dropped_frames=%u dropped_fragments=%u\n",
           STATUS_SUCCEEDED(createStatus) && STATUS_SUCCEEDED(putStatus) && STATUS_SUCCEEDED(stopStatus) && gStreamErrors == 0, createStatus,
           createMs, framesPut, fragmentsStarted, putStatus, stopStatus, stopMs, gAcks[FRAGMENT_ACK_TYPE_BUFFERING], gAcks[FRAGMENT_ACK_TYPE_RECEIVED],
           gAcks[FRAGMENT_ACK_TYPE_PERSISTED], gAcks[FRAGMENT_ACK_TYPE_ERROR], gAcks[FRAGMENT_ACK_TYPE_IDLE], gStreamErrors, gLastStreamError, gStale,
           gDroppedFrames, gDroppedFragments);
    fflush(stdout);
    if (IS_VALID_STREAM_HANDLE(streamHandle)) {
        freeKinesisVideoStream(&streamHandle);
    }
    if (IS_VALID_CLIENT_HANDLE(clientHandle)) {
        freeKinesisVideoClient(&clientHandle);
    }
    if (pClientCallbacks != NULL) {
        freeCallbacksProvider(&pClientCallbacks);
    }
    if (pStreamInfo != NULL) {
        freeStreamInfoProvider(&pStreamInfo);
    }
    if (pDeviceInfo != NULL) {
        freeDeviceInfo(&pDeviceInfo);
    }
    return STATUS_SUCCEEDED(createStatus) && STATUS_SUCCEEDED(putStatus) && STATUS_SUCCEEDED(stopStatus) && gStreamErrors == 0 ? 0 : 1;
}
