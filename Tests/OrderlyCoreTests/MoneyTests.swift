import OrderlyCore
import Testing

@Suite
struct MoneyTests {
    let eur = CurrencyCode("EUR")!
    let usd = CurrencyCode("USD")!

    @Test(arguments: ["", "EU", "EURO", "eur", "E1R", "ÉUR"])
    func invalidCurrencyCodes(_ code: String) {
        #expect(CurrencyCode(code) == nil)
    }

    @Test func arithmeticInOneCurrency() throws {
        let price = Money(minorUnits: 1999, currency: eur)
        #expect(try price.multiplied(by: 3) == Money(minorUnits: 5997, currency: eur))
        #expect(try price.adding(price) == Money(minorUnits: 3998, currency: eur))
        #expect(try price.subtracting(Money(minorUnits: 2000, currency: eur)).minorUnits == -1)
    }

    @Test func overflowIsAnErrorNotAWrongTotal() {
        let huge = Money(minorUnits: Int64.max / 2 + 1, currency: eur)
        #expect(throws: MoneyError.overflow) { try huge.multiplied(by: 2) }
        #expect(throws: MoneyError.overflow) { try huge.adding(huge) }
        #expect(throws: MoneyError.overflow) {
            try Money(minorUnits: Int64.min, currency: eur).subtracting(Money(minorUnits: 1, currency: eur))
        }
    }

    @Test func currenciesNeverMix() {
        #expect(throws: MoneyError.currencyMismatch(eur, usd)) {
            try Money.zero(eur).adding(Money.zero(usd))
        }
    }
}
