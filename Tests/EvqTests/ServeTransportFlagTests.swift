import Testing

/// `evq serve`'s stream-transport flags: what each refuses, in words, with the documented code.
@Suite struct ServeTransportFlagTests {
    @Test func aDoTOrDoHPortWithoutACertificateIsAUsageErrorAndExit64() throws {
        for flag in ["--dot-port", "--doh-port"] {
            let run = try Evq.run(["serve", "--port", "0", flag, "0"])
            #expect(run.status == 64)
            #expect(run.stderr.hasPrefix("evq serve: --dot-port and --doh-port need --tls-cert and --tls-key\n"))
        }
    }

    @Test func aMissingCertificateIsOneLineWithThePathAndExit66() throws {
        let run = try Evq.run(["serve", "--port", "0", "--dot-port", "0", "--tls-cert", "/nonexistent/cert.pem",
                               "--tls-key", "/nonexistent/key.pem"])
        #expect(run.status == 66)
        #expect(run.stderr
                == "evq serve: tls: --tls-cert /nonexistent/cert.pem: No such file or directory (errno 2)\n")
    }

    @Test func aCertificateFileThatIsNotPEMIsOneLineWithOpenSSLsReasonAndExit66() throws {
        let run = try Evq.run(["serve", "--port", "0", "--doh-port", "0", "--tls-cert", "/etc/hostname",
                               "--tls-key", "/etc/hostname"])
        #expect(run.status == 66)
        #expect(run.stderr.hasPrefix("evq serve: tls: --tls-cert /etc/hostname: "))
        #expect(!run.stderr.contains("errno"))
    }

    @Test func streamThreadsOutOfRangeAreAUsageError() throws {
        let run = try Evq.run(["serve", "--tcp-threads", "0"])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("evq serve: --tcp-threads must be 1…64\n"))
    }
}
